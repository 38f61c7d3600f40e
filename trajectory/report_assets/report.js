(function () {
  "use strict";
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var config = {displaylogo: false, responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]};
  var timeline = document.getElementById("timeline-plot");
  var player = document.getElementById("player");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#scene-table tbody tr"));
  var tracks = report.tracks;
  var EMOTIONS = ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear",
    "sadness"];

  function bound(values, x, right) {  // first index with values[i] >= x (> x when right)
    var lo = 0, hi = values.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (values[mid] < x || (right && values[mid] === x)) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }

  function smooth(values, window) {  // the same centred moving average as smooth_binned()
    var t = tracks.t, n = tracks.n, size = t.length, sums = [0], counts = [0], out = [];
    for (var i = 0; i < size; i++) {
      sums.push(sums[i] + values[i] * n[i]);
      counts.push(counts[i] + n[i]);
    }
    for (var j = 0; j < size; j++) {
      if (!(window > 0) || size < 2) { out.push(values[j]); continue; }
      var lo = bound(t, t[j] - window / 2, false), hi = bound(t, t[j] + window / 2, true);
      out.push((sums[hi] - sums[lo]) / (counts[hi] - counts[lo]));
    }
    return out;
  }

  function toMs(seconds) { return report.epoch_ms + seconds * 1000; }

  function sceneAt(seconds) {
    return Math.max(0, bound(report.scenes.start, seconds, true) - 1);
  }

  function hoverText(i, smoothed) {
    var parts;
    if (report.mode === "emotion") {
      parts = EMOTIONS.map(function (e) { return [smoothed[e][i], e]; })
        .sort(function (a, b) { return b[0] - a[0]; }).slice(0, 3)
        .map(function (p) { return p[1] + " " + Math.round(p[0] * 100) + "%"; });
    } else {
      parts = ["brightness " + Math.round(smoothed.brightness[i]) + "%",
        "colourfulness " + Math.round(smoothed.colourfulness[i])];
    }
    return "scene " + sceneAt(tracks.t[i]) + "<br>" + parts.join("<br>");
  }

  function setSmoothing(window) {
    var smoothed = {}, names = Object.keys(tracks.values), ys = [], indices = [], hover = -1;
    names.forEach(function (name) { smoothed[name] = smooth(tracks.values[name], window); });
    timeline.data.forEach(function (trace, k) {
      if (smoothed[trace.name]) { ys.push(smoothed[trace.name]); indices.push(k); }
      if (trace.name === "hover") { hover = k; }
    });
    Plotly.restyle(timeline, {y: ys}, indices);
    if (hover >= 0) {
      var texts = tracks.t.map(function (_, i) { return hoverText(i, smoothed); });
      Plotly.restyle(timeline, {text: [texts]}, [hover]);
    }
    document.getElementById("smoothing-note").textContent = window > 0
      ? "Smoothed with a centred moving average over " + window + " s."
      : "Not smoothed: every drawn point is a sampled frame (or a short bin of them).";
  }

  function select(row) {
    rows.forEach(function (r) { r.classList.toggle("selected", r === row); });
  }

  function showScene(row) {
    var start = parseFloat(row.dataset.start), end = parseFloat(row.dataset.end);
    var pad = Math.max(1, 0.15 * (end - start));
    select(row);
    Plotly.relayout(timeline, {"xaxis.range": [toMs(start - pad), toMs(end + pad)]});
    timeline.scrollIntoView({block: "nearest"});
    if (player) { player.currentTime = start; }
  }

  function onPlotClick(event) {
    if (!event.points || !event.points.length) { return; }
    var x = new Date(String(event.points[0].x).replace(" ", "T") + "Z").getTime();
    var seconds = (x - report.epoch_ms) / 1000;
    if (!isFinite(seconds)) { return; }
    var row = rows[sceneAt(seconds)];
    if (row) { select(row); row.scrollIntoView({block: "nearest"}); }
    if (player) { player.currentTime = seconds; }
  }

  rows.forEach(function (row) {
    row.addEventListener("click", function () { showScene(row); });
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); showScene(row); }
    });
  });
  document.getElementById("smoothing").addEventListener("change", function (e) {
    setSmoothing(parseFloat(e.target.value));
  });
  document.getElementById("whole-film").addEventListener("click", function () {
    var range = report.figures.timeline.layout.xaxis.range;
    Plotly.relayout(timeline, {"xaxis.range": range.slice()});
    select(null);
  });

  var plots = [];
  var figure = report.figures.timeline;
  plots.push(Plotly.newPlot(timeline, figure.data, figure.layout, config).then(function () {
    timeline.on("plotly_click", onPlotClick);
  }));
  if (report.figures.distribution) {
    var dist = report.figures.distribution;
    plots.push(Plotly.newPlot("distribution-plot", dist.data, dist.layout,
      Object.assign({}, config, {displayModeBar: false})));
  }
  Promise.all(plots).then(function () { document.body.dataset.ready = "true"; });
})();

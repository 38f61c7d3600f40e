// Sorting and filtering of the catalogue table: rows are reordered and hidden, never rebuilt.
(function () {
  "use strict";
  var body = document.querySelector("#films tbody");
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var dominant = document.getElementById("dominant");
  var arc = document.getElementById("arc");
  var sortSelect = document.getElementById("sort");
  var shown = document.getElementById("shown");
  var state = { key: "title", descending: false };
  var numeric = { duration: 1, valence: 1 };
  ["amusement", "anger", "awe", "contentment", "disgust", "excitement", "fear", "sadness"]
    .forEach(function (e) { numeric[e] = 1; });

  function value(row, key) {
    var v = row.dataset[key];
    if (numeric[key]) { return v === undefined || v === "" ? -Infinity : parseFloat(v); }
    return (v || "").toLowerCase();
  }

  function sortRows() {
    var key = state.key, sign = state.descending ? -1 : 1;
    rows.sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return 0;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    document.querySelectorAll("#films th[data-key]").forEach(function (th) {
      th.removeAttribute("aria-sort");
      if (th.dataset.key === key) {
        th.setAttribute("aria-sort", state.descending ? "descending" : "ascending");
      }
    });
  }

  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var ok = (!dominant.value || row.dataset.dominant === dominant.value) &&
        (!arc.value || row.dataset.arc === arc.value) &&
        words.every(function (w) { return row.dataset.search.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }

  function sortBy(key, descending) {
    state = { key: key, descending: descending };
    sortSelect.value = key;
    sortRows();
  }

  document.querySelectorAll("#films th[data-key]").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.dataset.key;
      sortBy(key, state.key === key ? !state.descending : !!numeric[key]);
    });
  });
  sortSelect.addEventListener("change", function () {
    sortBy(sortSelect.value, !!numeric[sortSelect.value]);
  });
  [filter, dominant, arc].forEach(function (el) { el.addEventListener("input", applyFilter); });
  applyFilter();
  window.catalog = { sortBy: sortBy, applyFilter: applyFilter };
  document.body.dataset.ready = "true";
})();

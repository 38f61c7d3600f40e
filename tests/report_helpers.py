"""Helpers for the report tests: a synthetic long film, a tiny video maker, headless Chromium.

The browser is driven over the Chrome DevTools Protocol through ``--remote-debugging-pipe``
(file descriptors 3 and 4, NUL-separated JSON messages): no websocket library, no open port.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from trajectory import aggregate
from trajectory.emotions import EMOTIONS, valence
from trajectory.results import Analysis
from trajectory.videoinfo import VideoInfo

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--font-render-hinting=none",
    "--remote-debugging-pipe",
)


# -- synthetic analyses --------------------------------------------------------------------------


def synthetic_analysis(
    duration_s: float = 7200.0,
    shots: int = 1500,
    scenes: int = 60,
    fps: float = 1.0,
    emotional: bool = True,
    name: str = "long_synthetic.mp4",
    title: str | None = None,
    seed: int = 0,
) -> Analysis:
    """An Analysis of a made-up film: scene-wise moods drifting over time, gradient keyframes.

    Shots are at least 1.5 s long, so each holds a sampled frame at ``fps`` = 1.
    """
    rng = np.random.default_rng(seed)
    lengths = 1.5 + rng.exponential(3.5, shots)
    shot_starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]]) * duration_s / lengths.sum()
    shot_ends = np.append(shot_starts[1:], duration_s)
    firsts = np.sort(rng.choice(np.arange(1, shots), scenes - 1, replace=False))
    shot_scene = np.searchsorted(firsts, np.arange(shots), side="right")
    shot_table = pd.DataFrame(
        {
            "index": np.arange(shots),
            "start_s": shot_starts,
            "end_s": shot_ends,
            "transition": ["start"] + ["hard"] * (shots - 1),
            "scene": shot_scene,
        }
    )
    times = np.arange(0.0, duration_s, 1.0 / fps)
    shot_of = np.searchsorted(shot_starts, times, side="right") - 1
    frames = pd.DataFrame({"time_s": times, "shot": shot_of, "scene": shot_scene[shot_of]})
    probs = _moods(rng, times, shot_scene[shot_of], scenes)
    if not emotional:
        probs[:] = np.nan
    for i, emotion in enumerate(EMOTIONS):
        frames[emotion] = probs[:, i]
    frames["valence"] = valence(probs)
    frames["brightness"] = 0.45 + 0.3 * np.sin(times / 600.0) + rng.normal(0, 0.03, len(times))
    frames["colourfulness"] = 40 + 20 * np.cos(times / 900.0) + rng.normal(0, 4, len(times))
    frames.insert(1, "weight_s", aggregate.frame_weights(times, shot_of, shot_starts, shot_ends))
    return Analysis(
        video=_video_info(name, duration_s, title),
        end_s=duration_s,
        frames_decoded=int(duration_s * 24),
        decode_errors=0,
        model={"arch": "vgg19", "sha256": "ab" * 32, "classes": list(EMOTIONS)}
        if emotional
        else None,
        sampling_fps=fps,
        frames=frames,
        shots=shot_table,
        scenes=aggregate.scene_table(frames, shot_table),
        film=aggregate.summarize_film(frames),
        keyframes={s: _keyframe(rng, s) for s in range(scenes)},
    )


def _moods(rng, times: np.ndarray, frame_scene: np.ndarray, scenes: int) -> np.ndarray:
    """(N, 8) probabilities: a mood per scene, a slow drift over the film, frame noise."""
    mood = rng.normal(0, 1.2, (scenes, len(EMOTIONS)))
    mood[np.arange(scenes), rng.integers(0, len(EMOTIONS), scenes)] += 1.8
    phase = times[:, None] / max(times[-1], 1.0) * 2 * np.pi + np.arange(len(EMOTIONS))
    logits = mood[frame_scene] + 0.8 * np.sin(phase) + rng.normal(0, 0.6, (len(times), 8))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _video_info(name: str, duration_s: float, title: str | None) -> VideoInfo:
    return VideoInfo(
        path=name,
        width=1920,
        height=1080,
        coded_width=1920,
        coded_height=1080,
        rotation=0,
        fps=24.0,
        time_base=Fraction(1, 12288),
        start_s=0.0,
        duration_s=duration_s,
        frame_count=int(duration_s * 24),
        codec="h264",
        title=title,
    )


def _keyframe(rng, scene: int) -> bytes:
    """A 192x108 JPEG thumbnail with film-like content: gradient, shapes, grain."""
    y, x = np.mgrid[0:108, 0:192].astype(np.float32)
    base = rng.uniform(40, 200, 3)
    image = base + 0.4 * x[..., None] * rng.uniform(-1, 1, 3) + 0.3 * y[..., None]
    for _ in range(4):
        cy, cx, r = rng.uniform(0, 108), rng.uniform(0, 192), rng.uniform(8, 30)
        image[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.uniform(0, 255, 3)
    image += rng.normal(0, 6, image.shape)
    ok, data = cv2.imencode(
        ".jpg", np.clip(image, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80]
    )
    assert ok
    return data.tobytes()


# -- videos --------------------------------------------------------------------------------------


def make_video(
    path: Path, seconds: float = 4.0, size=(160, 90), fps: int = 12, title: str | None = None
) -> Path:
    """Writes an H.264 MP4 of flat colours that change every second (a cut each second)."""
    import av

    colors = [(220, 60, 40), (40, 160, 80), (30, 80, 200), (230, 200, 40), (120, 40, 160)]
    with av.open(str(path), "w") as container:
        if title is not None:
            container.metadata["title"] = title
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(round(seconds * fps)):
            rgb = np.empty((size[1], size[0], 3), np.uint8)
            rgb[:] = colors[(i // fps) % len(colors)]
            rgb[:, : 8 + (i % fps) * 4] //= 2  # some motion inside each shot
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


# -- headless Chromium ---------------------------------------------------------------------------


def find_chromium() -> str | None:
    """The browser's absolute path: $CHROMIUM (a name or a path), else the usual names."""
    names = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else CHROMIUM_NAMES
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


@dataclass
class PageReport:
    """What the browser saw on a page."""

    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)  # name -> result of a JS expression
    screenshot: Path | None = None
    seconds: float = 0.0


def _high_fd(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more (out of the way of 3 and 4); closes ``fd``."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _spawn(args: list[str], commands: int, answers: int) -> int:
    """Starts ``args`` (args[0] a path) with ``commands`` as its fd 3, ``answers`` as its fd 4
    and no stdio. posix_spawn: no Python code runs in the child, safe with threads around."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, commands, 3),
        (os.POSIX_SPAWN_DUP2, answers, 4),
    ]
    return os.posix_spawn(args[0], args, os.environ, file_actions=actions)


class Chromium:
    """One headless Chromium, driven over the DevTools pipe. Use as a context manager."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900, timeout: float = 60.0):
        self.width, self.height, self.timeout = width, height, timeout
        self.profile = tempfile.mkdtemp(prefix="trajectory-chromium-")
        commands, self._to_browser = os.pipe()
        self._from_browser, answers = os.pipe()
        commands, answers = _high_fd(commands), _high_fd(answers)
        args = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        try:
            self.pid: int | None = _spawn(args, commands, answers)
        finally:
            os.close(commands)
            os.close(answers)
        self._next_id = 0
        self._buffer = b""
        self._replies: dict[int, dict] = {}
        self.events: list[dict] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Asks the browser to quit; kills it when it does not within 10 s."""
        if self.pid is not None:
            with contextlib.suppress(OSError, TimeoutError, RuntimeError):
                self.send("Browser.close")
            if not self._reaped(timeout=10.0):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = None
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _reaped(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return True
            time.sleep(0.05)
        return False

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Sends one command and waits for its answer; events seen meanwhile go to ``events``."""
        number = self._post(method, params, session)
        deadline = time.monotonic() + self.timeout
        while number not in self._replies:
            self._pump(deadline)
        reply = self._replies.pop(number)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _post(self, method: str, params: dict | None, session: str | None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _pump(self, deadline: float) -> None:
        """Reads one message. A JavaScript dialog is noted and dismissed at once: left open, it
        would block the page (and every later evaluation)."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "id" in message:
            self._replies[message["id"]] = message
            return
        self.events.append(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            self._post("Page.handleJavaScriptDialog", {"accept": False}, message.get("sessionId"))

    def wait_event(self, method: str, session: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self._pump(deadline)

    def open_page(self, url: str) -> str:
        """Opens ``url`` in a new tab, console, log and dialog events on; returns the session."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = session["sessionId"]
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(method, session=session)
        # CSS animations (the media controls' loading spinner) stand still: stable screenshots.
        self.send("Animation.enable", session=session)
        self.send("Animation.setPlaybackRate", {"playbackRate": 0}, session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.width,
                "height": self.height,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session,
        )
        self.send("Page.navigate", {"url": url}, session)
        self.wait_event("Page.loadEventFired", session, self.timeout)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "returnByValue": True,
                "awaitPromise": True,
            },
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, session: str, expression: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(session, expression):
                return True
            time.sleep(0.1)
        return False

    def screenshot(self, session: str, path: Path) -> Path:
        """Saves a full-page PNG (the page's whole height at the window's width)."""
        metrics = self.send("Page.getLayoutMetrics", session=session)
        height = int(metrics["cssContentSize"]["height"])
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session,
        )
        time.sleep(0.3)  # let Plotly's responsive resize settle
        shot = self.send("Page.captureScreenshot", {"format": "png"}, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def problems(self, session: str) -> tuple[list[str], list[str]]:
        """Console errors, uncaught exceptions, error log entries; and JavaScript dialogs."""
        errors, dialogs = [], []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(
                    " ".join(
                        str(a.get("value", a.get("description"))) for a in params.get("args", [])
                    )
                )
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(
                    details.get("exception", {}).get("description") or details.get("text")
                )
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
            elif method == "Page.javascriptDialogOpening":
                dialogs.append(params.get("message", ""))
        return errors, dialogs


def inspect_report(
    binary: str,
    report: Path,
    checks: dict[str, str],
    screenshot: Path | None = None,
    actions: dict[str, str] | None = None,
) -> PageReport:
    """Opens ``report`` from disk and waits for its plots; evaluates ``checks``, saves a
    screenshot, then evaluates ``actions`` (interactions that change the page), in that order."""
    started = time.monotonic()
    with Chromium(binary) as browser:
        session = browser.open_page(report.resolve().as_uri())
        ready = browser.wait_for(session, "document.body.dataset.ready === 'true'")
        values = {name: browser.evaluate(session, js) for name, js in checks.items()}
        values["ready"] = ready
        shot = browser.screenshot(session, screenshot) if screenshot else None
        for name, js in (actions or {}).items():
            values[name] = browser.evaluate(session, js)
        errors, dialogs = browser.problems(session)
    return PageReport(errors, dialogs, values, shot, time.monotonic() - started)


# -- reading reports back ------------------------------------------------------------------------


def report_data(page: str) -> dict:
    """The JSON the page embeds (figures, tracks, scenes)."""
    start = page.index('<script type="application/json" id="report-data">')
    start = page.index(">", start) + 1
    return json.loads(page[start : page.index("</script>", start)])


def page_part(page: str, tag: str, element_id: str) -> str:
    """The outer HTML of ``<tag id="element_id">`` (elements of that tag are not nested)."""
    match = re.search(rf'<{tag}\b[^>]*\bid="{re.escape(element_id)}"', page)
    if match is None:
        raise ValueError(f"no <{tag} id={element_id!r}> in the page")
    start = match.start()
    end = page.index(f"</{tag}>", start) + len(tag) + 3
    return page[start:end]


def trace(data: dict, name: str) -> dict:
    return next(t for t in data["figures"]["timeline"]["data"] if t.get("name") == name)

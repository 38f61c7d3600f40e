"""The output folder a run owns: a lock while it runs, a staging folder, and a whole-folder swap.

A run claims its output folder before decoding: it takes an OS lock on a hidden lock file beside
the folder (``fcntl.flock``: released by the kernel when the process dies, even by kill -9),
refuses a folder another run holds, removes staging folders that killed runs left behind, and
checks that it can write there at all. Outputs are written into a hidden staging folder and
published as a whole: the old folder is renamed aside, the new one renamed in, the old one
removed. So the folder always holds exactly one run's files, never a mix of two. Files a run
did not write (the film itself, placed beside its report; notes) are never deleted: each run
records its files in ``.trajectory-files.json`` inside the folder, and whatever is not listed
there is hard-linked into the new folder before the swap.

Hidden names beside the folder (``NAME`` shortened with a hash when long):
``.NAME.lock``, ``.NAME.scores-partial`` (the resume log), ``.NAME.partial-*`` (staging),
``.NAME.old-*`` (the previous outputs, between the two renames).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from trajectory.errors import InputError
from trajectory.files import umask

# File names are limited to 255 bytes on Linux and macOS. Derived names stay well below, so the
# hidden names built from them (prefix "." and suffixes up to ~24 bytes) always fit.
MAX_DERIVED_NAME_BYTES = 100
OUTPUT_MARKER = "tags.json"  # a folder holding this is a trajectory output and may be replaced
MANIFEST = ".trajectory-files.json"  # the files one run wrote, relative to its folder
# What a run wrote before manifests existed.
LEGACY_OUTPUTS = ("tags.json", "frames.csv", "scenes.csv", "report.html", "keyframes/")

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, claims) held by this process
_held_guard = threading.Lock()


def short_name(name: str, limit: int = MAX_DERIVED_NAME_BYTES) -> str:
    """``name`` itself if it fits in ``limit`` UTF-8 bytes, else its head plus a 12-hex hash."""
    data = os.fsencode(name)
    if len(data) <= limit:
        return name
    digest = hashlib.sha256(data).hexdigest()[:12]
    head = data[: limit - len(digest) - 1].decode("utf-8", "ignore").rstrip()
    return f"{head}-{digest}"


def default_out_dir(video: str | os.PathLike) -> Path:
    """``trajectory-out/<video stem>``, the stem shortened when it is too long for a name."""
    return Path("trajectory-out") / short_name(Path(video).stem)


class OutputFolder:
    """One output folder and the hidden files beside it; :meth:`claim` before writing.

    Example::

        with OutputFolder("out/film").claim() as folder:
            staging = folder.staging()
            (staging / "tags.json").write_text("{}")
            folder.publish(staging)
    """

    def __init__(self, path: str | os.PathLike):
        self.given = os.fspath(path)
        self.path = Path(os.path.realpath(path))
        if self.path.parent == self.path:
            raise InputError(self.given, "the root folder cannot be an output folder")
        self.parent = self.path.parent
        self.hidden = "." + short_name(self.path.name)
        self.lock_path = self.parent / f"{self.hidden}.lock"
        self.scores_log = self.parent / f"{self.hidden}.scores-partial"

    def claim(self) -> OutputFolder:
        """Locks the folder for this process, cleans stale staging, and probes that it is writable.

        Claims nest within one process (the CLI claims, then :func:`write_outputs` claims again).

        Raises:
            InputError: the path is not a usable folder, cannot be written, or another run holds it.
        """
        self._check_target()
        key = os.fspath(self.lock_path)
        with _held_guard:
            if key in _held:
                fd, claims = _held[key]
                _held[key] = (fd, claims + 1)
                return self
            fd = self._lock()
            _held[key] = (fd, 1)
        try:
            self._remove_stale()
            self._probe()
        except BaseException:
            self.release()
            raise
        return self

    def release(self) -> None:
        """Drops one claim; the last one removes the lock file and unlocks."""
        key = os.fspath(self.lock_path)
        with _held_guard:
            if key not in _held:
                return
            fd, claims = _held.pop(key)
            if claims > 1:
                _held[key] = (fd, claims - 1)
                return
            with contextlib.suppress(OSError):
                os.unlink(self.lock_path)  # while still locked: a waiting run re-checks the inode
            os.close(fd)

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def staging(self) -> Path:
        """A new empty hidden folder beside the output folder, to be :meth:`publish`-ed."""
        return Path(tempfile.mkdtemp(prefix=f"{self.hidden}.partial-", dir=self.parent))

    def publish(self, staging: Path, carry_over: bool = False) -> None:
        """Swaps ``staging`` in as the output folder; the previous run's files are removed.

        Files of the current folder that no run wrote (see :data:`MANIFEST`) are kept.

        Args:
            carry_over: keep the previous run's files that ``staging`` lacks too
                (``trajectory report`` re-renders part of a run's files).
        """
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp makes 0700; give the usual permissions
        written = {p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()}
        previous_run = _run_files(self.path) if self.path.is_dir() else set()
        kept = set()
        if self.path.is_dir():
            kept = _carry_over(self.path, staging, previous_run, carry_over)
        run_files = written | (kept & previous_run)
        (staging / MANIFEST).write_text(json.dumps(sorted(run_files), indent=0) + "\n", "utf-8")
        old = None
        if self.path.is_dir():
            old = self.parent / f"{self.hidden}.old-{uuid.uuid4().hex[:8]}"
            os.rename(self.path, old)
        try:
            os.rename(staging, self.path)
        except BaseException:
            if old is not None:
                os.rename(old, self.path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _check_target(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise InputError(self.given, "exists and is not a folder (--out needs a folder)")
        if self.path.is_dir():
            entries = list(os.scandir(self.path))
            is_output = any(e.name == OUTPUT_MARKER for e in entries)
            if not is_output and any(e.is_dir(follow_symlinks=False) for e in entries):
                raise InputError(
                    self.given,
                    "holds folders and no trajectory output: give a new or empty folder",
                )
            if not os.access(self.path, os.W_OK | os.X_OK):
                raise InputError(self.given, "the output folder is not writable")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = _reason(error)
            raise InputError(self.given, f"cannot create the output folder ({reason})") from None

    def _lock(self) -> int:
        """Opens and flocks the lock file; retries if a releasing run unlinked it meanwhile."""
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as error:
                raise InputError(self.given, f"cannot write here ({_reason(error)})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise InputError(
                    self.given, f"is in use by another trajectory run (pid {owner}); try later"
                ) from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                return fd
            os.close(fd)

    def _remove_stale(self) -> None:
        """Cleans up after runs of this output that were killed.

        Only a run holding the lock stages or swaps this folder, and we hold it now, so every
        staging or old folder belongs to a run that is gone. An old folder whose successor was
        never renamed in (killed between the two renames) is put back; the rest are removed.
        """
        stale = sorted(
            (e for e in os.scandir(self.parent) if e.is_dir(follow_symlinks=False)),
            key=lambda e: e.stat(follow_symlinks=False).st_mtime,
        )
        for entry in stale:
            if entry.name.startswith(f"{self.hidden}.old-") and not self.path.exists():
                os.rename(entry.path, self.path)
        for entry in stale:
            if entry.name.startswith((f"{self.hidden}.partial-", f"{self.hidden}.old-")):
                shutil.rmtree(entry.path, ignore_errors=True)

    def _probe(self) -> None:
        """Creates and removes a staging folder with a file in it: can this run write here?"""
        try:
            staging = self.staging()
            try:
                (staging / "probe").write_bytes(b"")
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError as error:
            raise InputError(self.given, f"cannot write here ({_reason(error)})") from None


def _run_files(folder: Path) -> set[str]:
    """The files the run that wrote ``folder`` listed, as relative POSIX paths."""
    try:
        return set(json.loads((folder / MANIFEST).read_text("utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    if not (folder / OUTPUT_MARKER).is_file():
        return set()
    found = set()
    for path in folder.rglob("*"):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and any(name == k or name.startswith(k) for k in LEGACY_OUTPUTS):
            found.add(name)
    return found


def _carry_over(source: Path, staging: Path, previous_run: set[str], everything: bool) -> set[str]:
    """Hard-links into ``staging`` the files of ``source`` it lacks and that are to be kept.

    Kept: files no run wrote (always), and the previous run's files when ``everything``.
    Returns the kept files' relative paths. Links, not moves: until the swap, every file is
    still in ``source``, so a run killed at any moment loses nothing.
    """
    kept = set()
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        target = staging / name
        if name == MANIFEST or path.is_dir() and not path.is_symlink() or target.exists():
            continue
        if name in previous_run and not everything:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target, follow_symlinks=False)
        except OSError:
            shutil.copy2(path, target, follow_symlinks=False)
        kept.add(name)
    return kept


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__

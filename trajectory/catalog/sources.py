"""SOURCE arguments -> candidate files -> films with stable, content-derived ids.

A SOURCE is a video file, a folder (searched recursively) or a list file: one path per line, or
CSV rows ``path[,id,title]`` (relative paths are relative to the list file). Whether a file is a
film is decided by PyAV finding a video stream in it, never by its extension; everything else
(audio, still images, unreadable files) is returned as skipped with the reason.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from trajectory import video
from trajectory.errors import InputError

LIST_SUFFIXES = (".txt", ".csv", ".list", ".lst")
ID_BYTES = 1 << 20  # the id hashes the first and the last MiB, plus the size
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # safe as a folder name


@dataclass(frozen=True)
class Candidate:
    """A file named by a source, with the id and title a list file gave it (if any)."""

    path: str
    film_id: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Film:
    """A file where PyAV found a video stream.

    Attributes:
        film_id: the catalogue id: the list file's, else the fingerprint.
        fingerprint: 16 hex digits from the size and the first and last MiB.
    """

    film_id: str
    fingerprint: str
    path: str
    title: str
    duration_s: float | None


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def fingerprint(path: str | os.PathLike) -> str:
    """Content id: blake2b of the size and the first and last MiB (moving a file keeps it)."""
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest.update(str(size).encode())
        digest.update(f.read(ID_BYTES))
        if size > ID_BYTES:
            f.seek(max(ID_BYTES, size - ID_BYTES))
            digest.update(f.read(ID_BYTES))
    return digest.hexdigest()


def expand(sources: list[str | os.PathLike]) -> list[Candidate]:
    """The files the sources name, in a stable order, each once.

    Raises:
        InputError: a source does not exist, or a list file cannot be read.
    """
    found: dict[str, Candidate] = {}
    for source in sources:
        path = Path(source)
        if path.is_dir():
            items = [Candidate(str(p)) for p in sorted(path.rglob("*")) if p.is_file()]
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            items = read_list(path)
        elif path.is_file():
            items = [Candidate(str(path))]
        else:
            raise InputError(path, "no such file or folder")
        for item in items:
            key = os.path.realpath(item.path)
            if key not in found and not Path(item.path).name.startswith("."):
                found[key] = item
    return list(found.values())


def read_list(path: Path) -> list[Candidate]:
    """A list file: one path per line, or CSV ``path[,id,title]``; '#' starts a comment line."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the list file ({error})") from None
    items = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() == "path":
            continue  # a header row
        film = Path(row[0].strip()).expanduser()
        film = film if film.is_absolute() else path.parent / film
        film_id = row[1].strip() if len(row) > 1 and row[1].strip() else None
        title = row[2].strip() if len(row) > 2 and row[2].strip() else None
        items.append(Candidate(str(film), film_id, title))
    return items


def identify(candidate: Candidate) -> Film | Skipped:
    """A Film when PyAV finds a video stream in the file (decoding is the workers' job)."""
    if candidate.film_id is not None and not USER_ID.match(candidate.film_id):
        reason = f"id {candidate.film_id!r} is not usable (letters, digits, . _ -; up to 64)"
        return Skipped(candidate.path, reason)
    try:
        duration_s, title = inspect_container(candidate.path)
        content = fingerprint(candidate.path)
    except InputError as error:
        return Skipped(candidate.path, error.problem)
    except OSError as error:
        return Skipped(candidate.path, f"unreadable ({error.strerror or error})")
    title = candidate.title or title or Path(candidate.path).stem
    return Film(candidate.film_id or content, content, candidate.path, title, duration_s)


def inspect_container(path: str) -> tuple[float | None, str | None]:
    """(declared duration, title) of a file with a video stream; reads headers only.

    Raises:
        InputError: unreadable, no video stream (audio only, cover art), or a still image.
    """
    with video._open(path) as container:
        stream = video._video_stream(path, container)
        name = container.format.name
        # FFmpeg reads images through its image demuxers (image2, jpeg_pipe, png_pipe, ...).
        if name == "image2" or name.endswith("_pipe") or stream.frames == 1:
            raise InputError(path, f"a still image ({stream.codec_context.name}), not a film")
        duration = video._declared_duration(container, stream)
        return duration, video.container_title(container)


def identify_all(candidates: list[Candidate]) -> tuple[list[Film], list[Skipped]]:
    """Films and skipped files; a second file with the same id as an earlier one is skipped."""
    films: dict[str, Film] = {}
    skipped = []
    for candidate in candidates:
        found = identify(candidate)
        if isinstance(found, Skipped):
            skipped.append(found)
        elif found.film_id in films:
            first = films[found.film_id].path
            skipped.append(Skipped(found.path, f"same film id as {first} (a copy)"))
        else:
            films[found.film_id] = found
    return list(films.values()), skipped

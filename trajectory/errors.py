"""Errors the command line turns into one line on stderr: bad input and usage (exit 2), a broken
model (exit 1)."""

from __future__ import annotations

import os


class InputError(Exception):
    """A user-supplied file (video, checkpoint, output folder) cannot be used.

    The message is a single line naming the file and the problem, suitable for printing
    as is: ``"movie.mp4: no video stream (audio only)"``.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever the cause said
        super().__init__(self.problem if self.path is None else f"{self.path}: {self.problem}")


class UsageError(ValueError):
    """An argument value the command line could not check by itself (exit code 2).

    A ValueError, so library callers that catch bad arguments as ValueError keep working; but
    only this subclass means "the user's fault": any other ValueError is a bug (exit code 1).
    """


class ModelOutputError(RuntimeError):
    """The emotion model produced non-finite scores: its weights or preprocessing are broken.

    Exit code 1 with this message: nothing the user typed is wrong, the checkpoint is.
    """

"""The one error type for bad input that the command line turns into exit code 2."""

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

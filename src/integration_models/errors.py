"""One exception type for bad input, so that every failure names its file, line and problem."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input that must stop the run.

    The message is one line, ``<file>:<line>: <problem>``, so that a maintainer can go straight
    to the offending row. ``line`` counts physical lines of the file, the header being line 1.
    A file name with a line break or other unprintable character is shown quoted and escaped
    (``repr``), so that it cannot break the message into lines or forge another one.

    Parameters
    ----------
    path
        The file that holds the problem.
    problem
        What is wrong, in words.
    line
        The 1-based line of the file, or None when the problem concerns the whole file.
    """

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        shown = self.path if self.path.isprintable() else repr(self.path)
        where = shown if line is None else f"{shown}:{line}"
        super().__init__(f"{where}: {problem}")

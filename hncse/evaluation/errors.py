"""Errors of the evaluator that the user can fix; ``hncse evaluate`` prints them and exits 2."""

from __future__ import annotations

from pathlib import Path

from hncse import HncseError


class EvaluationError(HncseError, ValueError):
    """A bad choice of tasks, encoder, mode or cache folder; the message says what is allowed."""


class DataFormatError(HncseError, ValueError):
    """A SentEval file does not look as the protocol expects; the message names file and line."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line

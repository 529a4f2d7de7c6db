"""The one error a dataset adapter raises for bad input: it says which file, which line, and what."""

from __future__ import annotations

from pathlib import Path


class DatasetError(ValueError):
    """A malformed or unusable input file, e.g. ``u.data line 17: expected 4 ... fields, got 3``.

    ``line`` is 1-based (``None`` when the problem is the file as a whole); ``unit`` is "row" for
    formats without lines (Parquet).
    """

    def __init__(self, path: Path | str, line: int | None, problem: str, unit: str = "line") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = self.path.name if line is None else f"{self.path.name} {unit} {line}"
        super().__init__(f"{where}: {problem}")

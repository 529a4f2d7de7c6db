"""Validated reads of delimited text: each record keeps the line it came from, so errors can name it.

Reads are vectorised (pandas' C parser). Only when a row is bad do we go back to the file for that
one line, to say exactly what is wrong with it. :func:`read_numeric` is the fast path for clean,
all-numeric files (big rating files); it returns ``None`` on any doubt so the caller can re-read
with :func:`read_delimited` and raise the precise error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.datasets.errors import DatasetError

WHITESPACE = r"\s+"
LINE = "line"  # extra column: the 1-based line (or row) each record came from
_EXTRA = "__extra__"
_SEP_NAMES = {
    "\t": "tab-separated",
    "|": "pipe-separated",
    "::": "'::'-separated",
    ",": "comma-separated",
    ";": "semicolon-separated",
    WHITESPACE: "whitespace-separated",
}
_UNIT_SEP = "\x1f"  # stands in for multi-character separators, which pandas' C parser cannot split on


def _raw_line(path: Path, line: int, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace") as handle:
        for number, text in enumerate(handle, 1):
            if number == line:
                return text.rstrip("\r\n")
    return ""


def _count_fields(text: str, sep: str, quoted: bool) -> int:
    if sep == WHITESPACE:
        return len(text.split())
    if quoted and len(sep) == 1:
        return len(next(csv.reader([text], delimiter=sep), []))
    return len(text.split(sep))


def read_delimited(
    path: Path,
    sep: str,
    fields: Sequence[str],
    *,
    header: bool = False,
    encoding: str = "utf-8",
    quoted: bool = False,
    optional: Collection[str] = (),
) -> pd.DataFrame:
    """String columns ``fields`` plus :data:`LINE`; blank lines skipped; any other row whose field
    count is wrong, or with an empty field not in ``optional``, raises :class:`DatasetError`."""
    fields = list(fields)
    required = [f for f in fields if f not in optional]
    described = f"{len(fields)} {_SEP_NAMES.get(sep, repr(sep) + '-separated')} fields ({' '.join(fields)})"
    source, pandas_sep = _source(path, sep)
    try:
        frame = pd.read_csv(
            source,
            sep=pandas_sep,
            header=None,
            skiprows=1 if header else 0,
            names=[*fields, _EXTRA],
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            encoding=encoding,
        )
    except pd.errors.ParserError as err:
        found = re.search(r"line (\d+), saw (\d+)", str(err))
        if found is None:
            raise DatasetError(path, None, f"cannot parse: {err}") from err
        raise DatasetError(path, int(found[1]), f"expected {described}, got {found[2]}") from None
    except UnicodeDecodeError as err:
        raise DatasetError(path, None, f"not {encoding} text ({err.reason} at byte {err.start})") from None
    frame[LINE] = np.arange(len(frame)) + (2 if header else 1)
    cells = frame[[*fields, _EXTRA]] == ""
    frame = frame[~cells.all(axis=1)]
    cells = cells[~cells.all(axis=1)]
    bad = ~cells[_EXTRA] | cells[required].any(axis=1)
    if bad.any():
        line = int(frame[LINE][bad].iloc[0])
        got = _count_fields(_raw_line(path, line, encoding), sep, quoted)
        if got != len(fields):
            raise DatasetError(path, line, f"expected {described}, got {got}")
        empty = cells[required][bad].iloc[0]
        raise DatasetError(path, line, f"empty {empty.idxmax()}")
    return frame.drop(columns=_EXTRA).reset_index(drop=True)


def check_header(path: Path, expected: Sequence[str], sep: str = ",", encoding: str = "utf-8") -> None:
    got = next(csv.reader([_raw_line(path, 1, encoding)], delimiter=sep), [])
    if [name.strip() for name in got] != list(expected):
        raise DatasetError(path, 1, f"expected header {sep.join(expected)!r}, got {sep.join(got)!r}")


def fail_first(
    path: Path,
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    problem: Callable[[int], str],
    unit: str = "line",
) -> None:
    """Raise for the first row flagged ``bad``; ``problem`` gets that row's position."""
    flags = np.asarray(bad, dtype=bool)
    if flags.any():
        row = int(flags.argmax())
        raise DatasetError(path, int(frame[LINE].iloc[row]), problem(row), unit)


def parse_numbers(path: Path, frame: pd.DataFrame, column: str, what: str, unit: str = "line") -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    fail_first(
        path,
        frame,
        values.isna() | ~np.isfinite(values),
        lambda r: f"{what} is not a number: {frame[column].iloc[r]!r}",
        unit,
    )
    return values.astype(np.float64)


def parse_integers(path: Path, frame: pd.DataFrame, column: str, what: str, unit: str = "line") -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values != np.floor(values))
    fail_first(path, frame, bad, lambda r: f"{what} is not an integer: {frame[column].iloc[r]!r}", unit)
    return values.astype(np.int64)


def unix_seconds(path: Path, frame: pd.DataFrame, column: str, unit: str = "line") -> pd.Series:
    """Whole, non-negative seconds since 1970; anything else is a bad timestamp."""
    seconds = pd.to_numeric(frame[column], errors="coerce")
    bad = seconds.isna() | (seconds < 0) | (seconds != np.floor(seconds))
    problem = "bad timestamp {!r} (expected unix seconds)"
    fail_first(path, frame, bad, lambda r: problem.format(frame[column].iloc[r]), unit)
    return seconds.astype(np.int64)


def _source(path: Path, sep: str) -> tuple[Path | io.BytesIO, str]:
    """pandas' C parser splits on one character: stand one in for a multi-character separator."""
    if len(sep) > 1 and sep != WHITESPACE:
        return io.BytesIO(path.read_bytes().replace(sep.encode(), _UNIT_SEP.encode())), _UNIT_SEP
    return path, sep


def read_numeric(
    path: Path, sep: str, dtypes: Mapping[str, str], *, header: bool = False, encoding: str = "utf-8"
) -> pd.DataFrame | None:
    """All-numeric columns straight from the parser, or ``None`` if any row is not clean (wrong field
    count, blank line, non-number, missing value)."""
    source, pandas_sep = _source(path, sep)
    try:
        frame = pd.read_csv(
            source,
            sep=pandas_sep,
            header=None,
            skiprows=1 if header else 0,
            names=list(dtypes),
            dtype=dict(dtypes),
            skip_blank_lines=False,
            quoting=csv.QUOTE_NONE,
            encoding=encoding,
        )
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
        return None
    return None if frame.isna().to_numpy().any() else frame

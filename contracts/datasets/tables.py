"""Shared parts of the dataset adapters: validated reads that know each row's line, and world tables
built from a plain list of interactions.

Reads are vectorised (pandas' C parser); only when a row is bad do we go back to the file for that
one line, so the error can name the line and say exactly what is wrong with it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.datasets.errors import DatasetError
from contracts.schemas import ITEMS_SCHEMA, NO_POSITION, UNKNOWN, USERS_SCHEMA
from contracts.world.io import EVENT_ID_DIGITS, WorldTables, prefixed_ids
from contracts.world.latent import AGE_BUCKETS

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
UNDER_18 = "under-18"


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
    source: Path | io.BytesIO = path
    pandas_sep = sep
    if len(sep) > 1 and sep != WHITESPACE:
        source, pandas_sep = (
            io.BytesIO(path.read_bytes().replace(sep.encode(), _UNIT_SEP.encode())),
            _UNIT_SEP,
        )
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
    """Whole seconds since 1970 as UTC timestamps; anything else is a bad timestamp."""
    seconds = pd.to_numeric(frame[column], errors="coerce")
    bad = seconds.isna() | (seconds < 0) | (seconds != np.floor(seconds))
    fail_first(
        path, frame, bad, lambda r: f"bad timestamp {frame[column].iloc[r]!r} (expected unix seconds)", unit
    )
    return pd.to_datetime(seconds.astype(np.int64), unit="s", utc=True)


def age_buckets(ages: pd.Series) -> pd.Series:
    """Ages in years to the generator's buckets (plus ``under-18``; unknown ages -> ``unknown``)."""
    edges = [-np.inf, 18, 25, 35, 45, 55, 65, np.inf]
    buckets = pd.cut(ages, edges, right=False, labels=[UNDER_18, *AGE_BUCKETS])
    return buckets.astype(object).where(ages.notna(), UNKNOWN)


def interaction_events(
    user_id: pd.Series,
    item_id: pd.Series,
    timestamp: pd.Series,
    event_type: pd.Series | str,
    value: pd.Series | float,
) -> pd.DataFrame:
    """Events for logged interactions without slates: numbered in file order, one session per user-day."""
    user_id, item_id = user_id.reset_index(drop=True), item_id.reset_index(drop=True)
    timestamp = timestamp.reset_index(drop=True)
    codes, days = pd.factorize(timestamp.dt.floor("D"))
    day_labels = np.asarray(pd.DatetimeIndex(days).strftime("%Y-%m-%d"), dtype=object)
    n = len(user_id)
    return pd.DataFrame(
        {
            "event_id": prefixed_ids("e", 0, n, EVENT_ID_DIGITS).to_pandas(),
            "user_id": user_id,
            "item_id": item_id,
            "event_type": event_type if isinstance(event_type, str) else event_type.reset_index(drop=True),
            "timestamp": timestamp,
            "surface": "home_feed",
            "position": np.full(n, NO_POSITION, dtype=np.int32),
            "session_id": user_id + "-" + day_labels[codes],
            "device": UNKNOWN,
            "value": value if isinstance(value, float) else value.reset_index(drop=True),
        }
    )


def _with_unseen(known: pd.DataFrame | None, key: str, seen: pd.Index) -> pd.DataFrame:
    """Known rows first (their file order), then ids that only appear in the interactions."""
    if known is None:
        return pd.DataFrame({key: seen})
    unseen = seen[~seen.isin(known[key])]
    return pd.concat([known, pd.DataFrame({key: unseen})], ignore_index=True)


def world_tables(
    events: pd.DataFrame, users: pd.DataFrame | None = None, items: pd.DataFrame | None = None
) -> WorldTables:
    """Complete users and items tables for ``events``: missing attributes are ``unknown``.

    ``signup_ts`` is a user's first event; ``created_at`` is an item's ``release`` column (never
    later than its first event), else its first event. Rows without events get the first event overall.
    """
    earliest = events["timestamp"].min()
    first_by_user = events.groupby("user_id", sort=False)["timestamp"].min()
    first_by_item = events.groupby("item_id", sort=False)["timestamp"].min()

    users = _with_unseen(users, "user_id", first_by_user.index)
    for column in ("country", "age_bucket", "device", "segment"):
        users[column] = users[column].fillna(UNKNOWN) if column in users else UNKNOWN
    users["signup_ts"] = users["user_id"].map(first_by_user).fillna(earliest)

    items = _with_unseen(items, "item_id", first_by_item.index)
    for column in ("category", "brand", "title"):
        items[column] = items[column].fillna(UNKNOWN) if column in items else UNKNOWN
    first_seen = items["item_id"].map(first_by_item)
    release = items.pop("release") if "release" in items else first_seen
    items["created_at"] = (
        release.where(~(release > first_seen), first_seen).fillna(first_seen).fillna(earliest)
    )
    items["price"] = np.nan
    items["in_stock"] = True
    items["sponsored"] = False
    return WorldTables(users=users[USERS_SCHEMA.names], items=items[ITEMS_SCHEMA.names], events=events)

"""A generic interactions file as a world: one row per (user, item[, time, event type, rating]).

Formats, by file suffix:

* ``.csv`` / ``.tsv`` / ``.tab``: a header row; ``separator`` overrides ``,`` / tab.
* ``.parquet`` / ``.pq``; ``.jsonl`` / ``.ndjson`` / ``.json``, gzipped or not (one JSON object
  per line, read in chunks keeping only the mapped fields: :mod:`contracts.datasets.json_lines`).
* anything else: headerless lines split on ``separator`` (default: any whitespace); the columns
  are named by position ``0``, ``1``, ... (so plain ``user item`` lines need no mapping).

``columns`` maps our fields to the file's columns, e.g. ``"user=uid,item=iid,timestamp=ts,
event_type=kind,rating=stars"``; given, it is the whole mapping. Without it, common names are
recognised (``user_id``, ``itemId``, ``timestamp``, ``rating``, ...; ``0`` and ``1`` for headerless
files; Amazon review fields ``reviewerID``, ``parent_asin``/``asin``, ``unixReviewTime``, ``overall``
too). Timestamps may be unix time (s, ms, us or ns, told apart by magnitude) or date-time text
(naive means UTC). **Without a timestamp column, rows get increasing timestamps in file order, one
second apart, the last one second before** ``end_time`` (default: the current hour). Event types
must be one of :data:`contracts.schemas.EVENT_TYPES` (default ``click``); ``rating`` becomes
``value``. Ids are kept as they are (no ``u``/``i`` prefix): they are the caller's own ids.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.datasets.errors import DatasetError
from contracts.datasets.json_lines import is_json_lines, read_json_lines
from contracts.datasets.reading import LINE, WHITESPACE, fail_first, read_delimited
from contracts.datasets.tables import as_strings, interaction_events, world_tables
from contracts.schemas import EVENT_TYPES
from contracts.world.generator import default_end_time
from contracts.world.io import WorldTables

FIELDS = ("user", "item", "timestamp", "event_type", "rating")
KNOWN_NAMES = {
    "user": ("user", "user_id", "userid", "uid", "visitorid", "customer_id", "reviewerid"),
    "item": ("item", "item_id", "itemid", "iid", "movieid", "product_id", "productid", "parent_asin", "asin"),
    "timestamp": ("timestamp", "ts", "time", "datetime", "event_time", "date", "unixreviewtime"),
    "event_type": ("event_type", "event", "type", "action", "kind"),
    "rating": ("rating", "score", "stars", "value", "overall"),
}
HEADERLESS = {"user": "0", "item": "1"}
DEFAULT_EVENT_TYPE = "click"
_UNIX_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))  # largest magnitude below bound -> unit
_DELIMITED = {".csv": ",", ".tsv": "\t", ".tab": "\t"}


def load_interactions(
    path: Path | str,
    columns: str | None = None,
    separator: str | None = None,
    *,
    end_time: datetime | None = None,
) -> WorldTables:
    """Read an interactions file (see the module docstring) into world tables."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, None, "no such file")
    suffix = ".jsonl" if is_json_lines(path) else path.suffix.lower()
    unit = "row" if suffix in (".parquet", ".pq") else "line"
    if suffix in (".parquet", ".pq"):
        raw = pd.read_parquet(path)
        raw.columns = [str(c) for c in raw.columns]
        raw[LINE] = np.arange(1, len(raw) + 1)
    elif suffix == ".jsonl":
        raw = read_json_lines(path, lambda names: _mapping(path, names, columns, headerless=False))
    else:
        raw = _read_delimited(path, suffix, separator, columns)
    if raw.empty:
        raise DatasetError(path, None, "no interactions")
    mapping = _mapping(path, [c for c in raw.columns if c != LINE], columns, headerless=_headerless(suffix))
    user = _ids(path, raw, mapping["user"], "user", unit)
    item = _ids(path, raw, mapping["item"], "item", unit)
    timestamp = _timestamps(path, raw, mapping.get("timestamp"), unit, end_time)
    event_type = _event_types(path, raw, mapping.get("event_type"), unit)
    value = _ratings(path, raw, mapping["rating"], unit) if "rating" in mapping else np.nan
    if not isinstance(event_type, str):
        event_type = as_strings(event_type)
    events = interaction_events(as_strings(user), as_strings(item), timestamp, event_type, np.asarray(value))
    return world_tables(events)


def _headerless(suffix: str) -> bool:
    return suffix not in (*_DELIMITED, ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


def _read_delimited(path: Path, suffix: str, separator: str | None, columns: str | None) -> pd.DataFrame:
    quoted = suffix in _DELIMITED
    sep = separator or _DELIMITED.get(suffix, WHITESPACE)
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = (line.rstrip("\r\n") for line in handle)
        first = next(lines, "") if quoted else next((line for line in lines if line.strip()), "")
    if quoted:
        names = [n.strip() for n in next(csv.reader([first], delimiter=sep), [])]
        if len(set(names)) != len(names) or "" in names:
            raise DatasetError(path, 1, f"header needs distinct, non-empty column names, got {names}")
    else:
        names = [str(i) for i in range(len(first.split() if sep == WHITESPACE else first.split(sep)))]
    mapping = _mapping(path, names, columns, headerless=not quoted)
    ids = (mapping["user"], mapping["item"])
    return read_delimited(
        path, sep, names, header=quoted, quoted=quoted, optional=[n for n in names if n not in ids]
    )


def _mapping(path: Path, names: list[str], columns: str | None, headerless: bool) -> dict[str, str]:
    """Our field -> the file's column, from ``columns`` or, without it, from known names."""
    if columns:
        mapping: dict[str, str] = {}
        for part in columns.split(","):
            field, _, column = (s.strip() for s in part.partition("="))
            if field not in FIELDS or not column:
                raise DatasetError(path, None, f"bad column mapping {part!r}; use e.g. user=uid,item=iid")
            mapping[field] = column
    elif headerless:
        mapping = dict(HEADERLESS)
    else:
        lower = {name.lower(): name for name in names}
        found = {f: [lower[k] for k in known if k in lower] for f, known in KNOWN_NAMES.items()}
        mapping = {f: hits[0] for f, hits in found.items() if hits}
    for field in ("user", "item"):
        if field not in mapping:
            raise DatasetError(
                path, None, f"no {field} column among {names}; map one with columns='{field}=...'"
            )
    for field, column in mapping.items():
        if column not in names:
            raise DatasetError(path, None, f"column {column!r} (for {field}) not found; columns are {names}")
    return mapping


def _ids(path: Path, raw: pd.DataFrame, column: str, what: str, unit: str) -> pd.Series:
    values = raw[column]
    text = values.astype(str).str.strip()
    fail_first(path, raw, values.isna() | (text == ""), lambda r: f"empty {what} id", unit)
    return text


def _timestamps(
    path: Path, raw: pd.DataFrame, column: str | None, unit: str, end_time: datetime | None
) -> pd.Series:
    if column is None:
        end = pd.Timestamp(end_time or default_end_time())
        return pd.Series(end - pd.to_timedelta(np.arange(len(raw), 0, -1), unit="s"))
    values = raw[column].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
    else:
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all():
            biggest = numeric.abs().max()
            scale = next((u for bound, u in _UNIX_UNITS if biggest < bound), "ns")
            parsed = pd.to_datetime(numeric, unit=scale, utc=True)
        else:
            parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
            retry = parsed.isna() & values.notna()
            if retry.any():
                parsed[retry] = pd.to_datetime(values[retry], utc=True, errors="coerce", format="mixed")
    fail_first(path, raw, parsed.isna(), lambda r: f"bad timestamp {values.iloc[r]!r}", unit)
    return parsed


def _ratings(path: Path, raw: pd.DataFrame, column: str, unit: str) -> pd.Series:
    """Numbers; an empty cell means no rating (NaN), anything else unparseable is an error."""
    given = raw[column].notna() & (raw[column].astype(str).str.strip() != "")
    values = pd.to_numeric(raw[column].where(given), errors="coerce")
    bad = given & ~np.isfinite(values)
    fail_first(path, raw, bad, lambda r: f"rating is not a number: {raw[column].iloc[r]!r}", unit)
    return values.astype(np.float64)


def _event_types(path: Path, raw: pd.DataFrame, column: str | None, unit: str) -> pd.Series | str:
    if column is None:
        return DEFAULT_EVENT_TYPE
    values = raw[column].astype(str).str.strip().str.lower()
    fail_first(
        path,
        raw,
        ~values.isin(EVENT_TYPES),
        lambda r: f"unknown event type {raw[column].iloc[r]!r}; expected one of {', '.join(EVENT_TYPES)}",
        unit,
    )
    return values

"""JSON-lines review files read in chunks, keeping only the mapped columns.

Why: a review dump (one Amazon category: hundreds of thousands of objects, each with review text,
summary, votes, images) is mostly text the loop never reads. Parsing it whole into a frame holds
every field of every line at once; here lines are parsed a chunk at a time and only the fields the
column mapping names are kept, so memory follows the interactions, not the file. ``.gz`` files are
read as they are (``reviews_Books_5.json.gz``).

Fields are chosen by :func:`contracts.datasets.interactions.column_mapping` from the keys of the
first object (e.g. ``user=reviewerID,item=asin,timestamp=unixReviewTime,rating=overall``). A line
that is not a JSON object, or an object without a mapped user or item field, is a
:class:`DatasetError` naming its line; a missing optional field (time, rating) is left empty, and
the adapter reports it if it must have one.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from contracts.datasets.errors import DatasetError
from contracts.datasets.reading import LINE

JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
CHUNK_LINES = 50_000
REQUIRED = ("user", "item")
Mapping = dict[str, str]


def is_json_lines(path: Path) -> bool:
    """``x.jsonl``, ``x.ndjson``, ``x.json``, and any of them gzipped (``x.json.gz``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in JSON_SUFFIXES


def _open(path: Path) -> IO[str]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line."""
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise DatasetError(path, number, f"not valid JSON ({err.msg})") from None
                if not isinstance(record, dict):
                    raise DatasetError(path, number, f"expected a JSON object, got {type(record).__name__}")
                yield number, record
    except (OSError, EOFError) as err:  # a truncated or non-gzip .gz file
        raise DatasetError(path, None, f"cannot read: {err}") from None


def _cell(value: object) -> object:
    """Scalars as they are; a nested value (list, object) as its JSON text, so it stays one cell."""
    return json.dumps(value) if isinstance(value, dict | list) else value


def read_json_lines(
    path: Path, resolve: Callable[[list[str]], Mapping], chunk_lines: int = CHUNK_LINES
) -> pd.DataFrame:
    """The mapped columns (named as in the file) plus :data:`LINE`, one row per object.

    ``resolve`` turns the first object's keys into the field -> key mapping (and raises for a bad
    one); each later object must have the user and item keys it names.
    """
    records = _records(path)
    first = next(records, None)
    if first is None:
        raise DatasetError(path, None, "no interactions")
    mapping = resolve(list(first[1]))
    keys = list(dict.fromkeys(mapping.values()))
    required = {mapping[f] for f in REQUIRED}
    chunks: list[pd.DataFrame] = []
    lines: list[int] = []
    columns: dict[str, list[object]] = {key: [] for key in keys}

    def flush() -> None:
        if lines:
            chunk = pd.DataFrame({key: pd.Series(values, dtype=object) for key, values in columns.items()})
            chunk[LINE] = np.asarray(lines, dtype=np.int64)
            chunks.append(chunk)
            lines.clear()
            for values in columns.values():
                values.clear()

    for number, record in _chain(first, records):
        missing = required.difference(record)
        if missing:
            raise DatasetError(path, number, f"no {sorted(missing)[0]!r} field; fields are {sorted(record)}")
        for key in keys:
            columns[key].append(_cell(record.get(key)))
        lines.append(number)
        if len(lines) >= chunk_lines:
            flush()
    flush()
    return pd.concat(chunks, ignore_index=True)


def _chain(first: tuple[int, dict], rest: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    yield first
    yield from rest

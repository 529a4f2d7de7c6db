"""Every item's online features as columns in memory, so a request gathers rows instead of dicts.

A request ranks hundreds of candidates; reading their features as one dict per item and building
a frame from them was most of the funnel's time. Here each feature is one NumPy array (one row
per item, an id -> row index), filled from Feast's online store in batched reads and refreshed
when features are materialized or an item is written (``bento.features.OnlineFeatures``).
Numeric and boolean features are float64 with NaN for a missing value, strings are ``str`` arrays
with ``""``: what ``contracts.features.ranker_inputs`` reads either way.

Readers never lock: a write builds new arrays and swaps them in whole (copy on write; writes are
rare next to reads), so a request sees one consistent table. The last row is all missing values:
an unknown id gathers it (row -1) without a branch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contracts.features import ITEM_STATS_FEATURES

STRING_FEATURES = ("item_category", "item_brand")
Columns = dict[str, np.ndarray]


def _empty(name: str, n: int) -> np.ndarray:
    return np.full(n, "") if name in STRING_FEATURES else np.full(n, np.nan)


def as_column(name: str, values: Sequence[Any]) -> np.ndarray:
    """Feast's values of one feature (None where unset) as a table column."""
    if name in STRING_FEATURES:
        return np.asarray(["" if v is None else str(v) for v in values], dtype=str).reshape(len(values))
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)


@dataclass(frozen=True)
class _Snapshot:
    index: dict[str, int]  # item id -> row; the last row (defaults) has no id
    columns: Columns


def _snapshot(ids: Sequence[str], columns: Mapping[str, np.ndarray]) -> _Snapshot:
    """A table of ``ids`` with their ``columns``, plus the missing-values row at the end."""
    full = {
        name: np.concatenate([columns.get(name, _empty(name, len(ids))), _empty(name, 1)])
        for name in ITEM_STATS_FEATURES
    }
    return _Snapshot({item: row for row, item in enumerate(ids)}, full)


class ItemFeatureTable:
    """Item features by row; ``gather`` is the request path, the rest are writers."""

    def __init__(self) -> None:
        self._snap = _snapshot([], {})
        self._writer = threading.Lock()

    def __len__(self) -> int:
        return len(self._snap.index)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._snap.index

    def ids(self) -> list[str]:
        return list(self._snap.index)

    def gather(self, item_ids: Sequence[str]) -> tuple[Columns, np.ndarray]:
        """The rows of ``item_ids`` (missing values where unknown) and a mask of the unknown ones."""
        snap = self._snap  # one table for the whole request, whatever a writer swaps in meanwhile
        rows = np.fromiter((snap.index.get(i, -1) for i in item_ids), np.int64, len(item_ids))
        return {name: column[rows] for name, column in snap.columns.items()}, rows < 0

    def replace(self, ids: Sequence[str], columns: Mapping[str, np.ndarray]) -> None:
        """Swap in a whole new table (a reload after materialization)."""
        with self._writer:
            self._snap = _snapshot(list(ids), columns)

    def upsert(self, ids: Sequence[str], columns: Mapping[str, np.ndarray]) -> None:
        """Add or overwrite the rows of ``ids`` (read through Feast one batch at a time)."""
        if not len(ids):
            return
        with self._writer:
            old = self._snap
            known = list(old.index)
            new = [i for i in dict.fromkeys(ids) if i not in old.index]
            merged = {name: column[:-1].copy() for name, column in old.columns.items()}
            merged = {
                name: np.concatenate([merged[name], _empty(name, len(new))]) for name in ITEM_STATS_FEATURES
            }
            index = {**old.index, **{item: len(known) + k for k, item in enumerate(new)}}
            rows = np.fromiter((index[i] for i in ids), np.int64, len(ids))
            for name in ITEM_STATS_FEATURES:
                values = columns.get(name, _empty(name, len(ids)))
                if merged[name].dtype != values.dtype:  # a longer string than any before: widen
                    merged[name] = merged[name].astype(np.result_type(merged[name], values))
                merged[name][rows] = values
            self._snap = _snapshot([*known, *new], merged)

    def drop(self, item_ids: Iterable[str]) -> None:
        """Forget rows (a deleted item): a later request reads them through Feast again."""
        with self._writer:
            old = self._snap
            gone = {i for i in item_ids if i in old.index}
            if not gone:
                return
            keep = [i for i in old.index if i not in gone]
            rows = np.fromiter((old.index[i] for i in keep), np.int64, len(keep))
            self._snap = _snapshot(keep, {n: c[rows] for n, c in old.columns.items()})

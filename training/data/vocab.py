"""String id -> contiguous int, with 0 reserved for anything unknown.

Index 0 doubles as the cold-start slot: unseen users/items look up row 0 of an embedding table,
the same row the two-tower model trains through id dropout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

UNKNOWN_INDEX = 0


class IdVocab:
    """Ordered vocabulary; ``encode`` is vectorised so it handles millions of events quickly."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        unique = list(dict.fromkeys(str(i) for i in ids))
        self._ids: list[str] = unique
        self._index = pd.Index(unique)

    @classmethod
    def from_values(cls, values: Iterable[object]) -> IdVocab:
        """Vocabulary of the distinct non-null values, sorted for a deterministic layout."""
        series = pd.Series(list(values) if not isinstance(values, pd.Series) else values)
        return cls(sorted(series.dropna().astype(str).unique()))

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    def __len__(self) -> int:
        """Number of known ids (the embedding table needs ``len(vocab) + 1`` rows)."""
        return len(self._ids)

    @property
    def size(self) -> int:
        """Rows an embedding table needs: known ids plus the unknown slot."""
        return len(self._ids) + 1

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def index(self, item_id: str) -> int:
        loc = self._index.get_indexer([item_id])[0]
        return int(loc) + 1 if loc >= 0 else UNKNOWN_INDEX

    def encode(self, values: Sequence[object] | pd.Series | np.ndarray) -> np.ndarray:
        """Ids -> int64 indices; nulls and unseen values map to 0."""
        series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
        missing = series.isna().to_numpy()
        keys = series if pd.api.types.is_string_dtype(series.dtype) else series.astype(str)
        locs = self._index.get_indexer(keys)
        locs[missing] = -1
        return np.where(locs >= 0, locs + 1, UNKNOWN_INDEX).astype(np.int64)

    def decode(self, indices: Iterable[int]) -> list[str | None]:
        return [self._ids[i - 1] if 0 < i <= len(self._ids) else None for i in indices]

    def to_json(self) -> list[str]:
        return list(self._ids)

    @classmethod
    def from_json(cls, ids: list[str]) -> IdVocab:
        return cls(ids)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self._ids))

    @classmethod
    def load(cls, path: str | Path) -> IdVocab:
        return cls(json.loads(Path(path).read_text()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdVocab) and self._ids == other._ids

    def __hash__(self) -> int:
        return hash(tuple(self._ids))

    def __repr__(self) -> str:
        return f"IdVocab(n={len(self._ids)})"

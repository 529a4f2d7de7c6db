"""One request's candidates as parallel arrays, from retrieval through ranking to the re-rank.

A request carries a few hundred candidates through a handful of stages that each add a column
(scores, catalogue attributes) or keep a subset of rows (the light stage's top, the reduced set).
Doing that on a DataFrame cost more than the arithmetic itself; here a column is a NumPy array
and a subset is one fancy index per column. ``frame()`` gives the DataFrame the offline replay
reads (``bento.funnel.retrieval.retrieve_candidates``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Candidates:
    """``item_id``, ``source`` (the most personal source that proposed it) and ``source_rank`` per
    candidate, plus named columns of the same length (``retrieval_score``, the cross scores,
    ``fused_score``, ``category``, ``sponsored``, ``score``): ``cands[name]`` reads one."""

    item_id: np.ndarray
    source: np.ndarray
    source_rank: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.item_id)

    @property
    def empty(self) -> bool:
        return len(self.item_id) == 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        values = np.asarray(values)
        if len(values) != len(self.item_id):
            raise ValueError(f"column {name!r} has {len(values)} rows for {len(self.item_id)} candidates")
        self.columns[name] = values

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def ids(self) -> list[str]:
        return self.item_id.tolist()

    def take(self, rows: np.ndarray | slice) -> Candidates:
        """The candidates at ``rows`` (positions, or a slice), in that order."""
        return Candidates(
            self.item_id[rows],
            self.source[rows],
            self.source_rank[rows],
            {name: column[rows] for name, column in self.columns.items()},
        )

    def frame(self) -> pd.DataFrame:
        """The same rows as a DataFrame: ``item_id``, ``source``, ``source_rank``, then the columns."""
        return pd.DataFrame(
            {
                "item_id": pd.Series(self.item_id, dtype=object),
                "source": pd.Series(self.source, dtype=object),
                "source_rank": pd.Series(self.source_rank, dtype=int),
                **self.columns,
            }
        )

    @classmethod
    def of(cls, item_ids: list[str], sources: list[str], ranks: list[int]) -> Candidates:
        return cls(
            np.array(item_ids, dtype=object),
            np.array(sources, dtype=object),
            np.array(ranks, dtype=int),
        )

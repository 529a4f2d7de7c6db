"""Tuning the retrieval order's weights on the replayed funnel's own held-out engagements.

Equal weights let a weak signal drag the order down on a dataset where it is weak (MovieLens'
two-tower is far behind its EASE and ALS), and a fixed choice would be tuned to the demo world. So
each build chooses: while the ranker's training rows are replayed at the cut, every list with a
positive (an engagement in the label window, or a hidden one of the preference holdout) scores a
small grid of weightings by NDCG@k over the *whole* candidate list, the order serving would show.
The grid's first entry is equal weights and a tie keeps it: a change needs evidence. The evaluation
users are never replayed here, so the gate that compares the ranker with this order judges it on
users it was not tuned on.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bento.funnel.fusion import FUSED_SIGNALS, FUSION_FILE, fuse_standardised, standardised

GRID_VALUES = (0.0, 1.0, 2.0)  # per signal: off, on, twice: ratios 0, 1/2, 1, 2 between signals


def weight_grid(n_signals: int, values: tuple[float, ...] = GRID_VALUES) -> np.ndarray:
    """Signals x orders: every weighting in ``values`` up to scale, equal weights first."""
    seen: set[tuple[float, ...]] = set()
    columns = [np.ones(n_signals)]
    seen.add(tuple(np.ones(n_signals) / n_signals))
    for combo in itertools.product(values, repeat=n_signals):
        vector = np.asarray(combo, dtype=float)
        if vector.sum() == 0:
            continue
        direction = tuple(np.round(vector / vector.sum(), 9))
        if direction not in seen:
            seen.add(direction)
            columns.append(vector)
    return np.column_stack(columns)


def list_ndcg(scores: np.ndarray, positive: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of each column's order (candidates x orders) against the list's positives; ties keep
    the candidates' order, as the funnel's stable sort does."""
    hits = int(positive.sum())
    if hits == 0:
        return np.zeros(scores.shape[1])
    top = np.argsort(-scores, axis=0, kind="stable")[:k]
    discounts = 1.0 / np.log2(np.arange(2, top.shape[0] + 2))
    dcg = (positive[top] * discounts[:, None]).sum(axis=0)
    return dcg / discounts[: min(hits, k)].sum()


@dataclass
class FusionTuner:
    """Accumulates every grid order's NDCG@k over the replayed lists; ``choice`` picks the best."""

    k: int = 10
    grid: np.ndarray = field(default_factory=lambda: weight_grid(len(FUSED_SIGNALS)))
    lists: int = 0
    _sums: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self._sums = np.zeros(self.grid.shape[1])

    def observe(self, signals: np.ndarray, positive: np.ndarray) -> None:
        """One list: its candidates' ``FUSED_SIGNALS`` (candidates x signals) and positive mask."""
        if len(signals) < 2 or not positive.any():
            return
        scores = fuse_standardised(standardised(np.asarray(signals, dtype=np.float64)), self.grid)
        self._sums += list_ndcg(scores, np.asarray(positive, dtype=bool), self.k)
        self.lists += 1

    def recording(
        self, candidates_of: Callable[[str], pd.DataFrame], positives: Mapping[str, set[str]]
    ) -> Callable[[str], pd.DataFrame]:
        """``candidates_of`` that also observes each list against the user's ``positives``."""

        def candidates(user: str) -> pd.DataFrame:
            cands = candidates_of(user)
            if len(cands) and user in positives:
                positive = cands["item_id"].isin(positives[user]).to_numpy()
                self.observe(cands[list(FUSED_SIGNALS)].to_numpy(), positive)
            return cands

        return candidates

    def choice(self) -> FusionChoice:
        means = self._sums / max(self.lists, 1)
        best = int(np.argmax(means))  # the first maximum: equal weights on a tie
        ranked = np.argsort(-means, kind="stable")[:10]
        return FusionChoice(
            weights=dict(zip(FUSED_SIGNALS, self.grid[:, best].tolist(), strict=True)),
            lists=self.lists,
            ndcg=float(means[best]),
            equal_ndcg=float(means[0]),
            best_orders=[
                {"weights": self.grid[:, j].tolist(), f"ndcg@{self.k}": round(float(means[j]), 5)}
                for j in ranked
            ],
        )


@dataclass(frozen=True)
class FusionChoice:
    weights: dict[str, float]
    lists: int
    ndcg: float  # of the chosen order, on the replayed lists
    equal_ndcg: float  # of equal weights, on the same lists
    best_orders: list[dict[str, object]]

    def save(self, root: Path) -> Path:
        path = root / FUSION_FILE
        path.write_text(json.dumps(self.__dict__, indent=2))
        return path

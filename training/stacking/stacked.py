"""The stacked recommender: sources -> candidate union -> learned listwise ranker, offline only.

Stacking without leakage: the ranker learns from the validation split (sources fitted on its train
part, labels = its held-out items); the sources are then refitted on all of train and the same
ranker orders their candidates for the test users. The test split is never seen while fitting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from training.recommenders.base import Recommender
from training.stacking.candidates import CandidateSet, build_candidates
from training.stacking.config import StackingConfig
from training.stacking.features import FeatureContext
from training.stacking.training import RankerBag, score_candidates, train_listwise

SourceFactory = Callable[[], Recommender]


class StackedRecommender:
    """``fit(train, val_train, val)`` then ``scores(users)``: ranker scores on candidates, -inf elsewhere."""

    def __init__(
        self,
        factories: Mapping[str, SourceFactory],
        item_category: np.ndarray,
        config: StackingConfig | None = None,
        progress: bool = False,
    ) -> None:
        self.config = config or StackingConfig()
        self.factories = dict(factories)
        self.item_category = item_category
        self.progress = progress
        self.ranker: RankerBag | None = None
        self.sources: dict[str, Recommender] = {}
        self.matrix: sp.csr_matrix | None = None
        self.context: FeatureContext | None = None
        self.report: dict[str, Any] = {}

    def _fit_sources(self, matrix: sp.csr_matrix) -> dict[str, Recommender]:
        fitted = {}
        for name, factory in self.factories.items():
            started = time.perf_counter()
            fitted[name] = factory().fit(matrix)
            self.report.setdefault("source_seconds", {})[name] = round(time.perf_counter() - started, 2)
        return fitted

    def candidates(self, users: np.ndarray) -> CandidateSet:
        assert self.matrix is not None and self.context is not None, "fit first"
        cfg = self.config
        return build_candidates(
            self.sources, self.matrix, users, cfg.n_candidates, self.context, cfg.user_batch
        )

    def _replay(
        self, fold_train: sp.csr_matrix, fold_label: sp.csr_matrix
    ) -> tuple[CandidateSet, np.ndarray]:
        """Sources fitted on ``fold_train``; candidates of users with held-out items, labelled by them."""
        self.matrix, self.sources = fold_train, self._fit_sources(fold_train)
        self.context = FeatureContext.fit(fold_train, self.item_category)
        cands = self.candidates(np.flatnonzero(np.diff(fold_label.indptr) > 0))
        return cands, cands.labels(fold_label)

    def fit(
        self,
        train: sp.csr_matrix,
        val_train: sp.csr_matrix,
        val: sp.csr_matrix,
        replays: Sequence[tuple[sp.csr_matrix, sp.csr_matrix]] = (),
    ) -> StackedRecommender:
        """Train the ranker on (val_train -> val) and any further ``replays`` of train, then refit
        the sources on ``train``. More replays give the ranker more lists to learn from."""
        started = time.perf_counter()
        cands, labels = self._replay(val_train, val)
        recall = labels.sum() / max(val[cands.users].sum(), 1.0)
        retrieved_by = cands.retrieved_by
        for fold_train, fold_label in replays:
            more, more_labels = self._replay(fold_train, fold_label)
            cands = cands.concat(more)
            labels = np.concatenate([labels, more_labels])
        self.ranker, metrics = train_listwise(cands, labels, self.config, self.progress)
        self.report |= {
            "ranker": {k: round(v, 4) for k, v in metrics.items()},
            "val_candidate_recall": round(float(recall), 4),
            "retrieved_by": retrieved_by,
            "replays": len(replays),
        }
        self.matrix, self.sources = train, self._fit_sources(train)
        self.context = FeatureContext.fit(train, self.item_category)
        self.report["fit_seconds"] = round(time.perf_counter() - started, 2)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        assert self.ranker is not None and self.matrix is not None, "fit first"
        cands = self.candidates(users)
        ranked = score_candidates(self.ranker, cands, self.config.torch_threads)
        out = np.full((len(users), self.matrix.shape[1]), -np.inf, dtype=np.float32)
        rows = np.repeat(np.arange(len(users)), cands.items.shape[1])
        cols = cands.items.ravel()
        ok = cols >= 0
        out[rows[ok], cols[ok]] = ranked.ravel()[ok]
        return out

    def params(self) -> dict[str, Any]:
        return {"sources": list(self.factories), **self.config.to_dict()}

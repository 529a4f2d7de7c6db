"""The full funnel as one recommender: sources -> candidate union -> learned listwise ranker.

Stacking without leakage: the ranker learns from the validation split (sources fitted on its train
part, labels = its held-out items); the sources are then refitted on all of train and the same
ranker orders their candidates for the test users. The test split is never seen while fitting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from training.funnel.candidates import CandidateSet, build_candidates
from training.funnel.config import FunnelConfig
from training.funnel.features import FeatureContext
from training.funnel.model import ListwiseRanker
from training.funnel.training import score_candidates, train_listwise
from training.recommenders.base import Recommender

SourceFactory = Callable[[], Recommender]


class FunnelRecommender:
    """``fit(train, val_train, val)`` then ``scores(users)``: ranker scores on candidates, -inf elsewhere."""

    def __init__(
        self,
        factories: Mapping[str, SourceFactory],
        item_category: np.ndarray,
        config: FunnelConfig | None = None,
        progress: bool = False,
    ) -> None:
        self.config = config or FunnelConfig()
        self.factories = dict(factories)
        self.item_category = item_category
        self.progress = progress
        self.ranker: ListwiseRanker | None = None
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

    def fit(self, train: sp.csr_matrix, val_train: sp.csr_matrix, val: sp.csr_matrix) -> FunnelRecommender:
        """Train the ranker on (val_train -> val), then refit the sources on ``train``."""
        started = time.perf_counter()
        self.matrix, self.sources = val_train, self._fit_sources(val_train)
        self.context = FeatureContext.fit(val_train, self.item_category)
        users = np.flatnonzero(np.diff(val.indptr) > 0)
        cands = self.candidates(users)
        labels = cands.labels(val)
        self.ranker, metrics = train_listwise(cands, labels, self.config, self.progress)
        recall = labels.sum() / max(val[users].sum(), 1.0)
        self.report |= {
            "ranker": {k: round(v, 4) for k, v in metrics.items()},
            "val_candidate_recall": round(float(recall), 4),
            "retrieved_by": cands.retrieved_by,
        }
        self.matrix, self.sources = train, self._fit_sources(train)
        self.context = FeatureContext.fit(train, self.item_category)
        self.report["fit_seconds"] = round(time.perf_counter() - started, 2)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        assert self.ranker is not None and self.matrix is not None, "fit first"
        cands = self.candidates(users)
        ranked = score_candidates(self.ranker, cands)
        out = np.full((len(users), self.matrix.shape[1]), -np.inf, dtype=np.float32)
        rows = np.repeat(np.arange(len(users)), cands.items.shape[1])
        cols = cands.items.ravel()
        ok = cols >= 0
        out[rows[ok], cols[ok]] = ranked.ravel()[ok]
        return out

    def params(self) -> dict[str, Any]:
        return {"sources": list(self.factories), **self.config.to_dict()}

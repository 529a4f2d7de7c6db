"""Per-candidate features for the ranker: each source's standardised score and rank, plus context.

Scale-free on purpose: the ranker is trained with sources fitted on the validation split's train
part and applied with sources refitted on all of train, so raw scores and counts shift between the
two; per-user z-scores, log ranks and counts relative to their mean do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

CONTEXT_FEATURES = (
    "item_popularity",
    "user_activity",
    "category_affinity",
    "category_popularity",
    "popularity_gap",  # item's log popularity minus the mean of the user's items': mainstream taste
)


def source_feature_names(sources: tuple[str, ...]) -> list[str]:
    return [f"{s}_{kind}" for s in sources for kind in ("z", "log_rank")] + list(CONTEXT_FEATURES)


@dataclass(frozen=True)
class FeatureContext:
    """What the context features need from the training matrix the sources were fitted on."""

    item_log_pop: np.ndarray  # [n_items], log1p(users per item) - its mean
    user_log_activity: np.ndarray  # [n_users], log1p(items per user) - its mean
    user_category_share: sp.csr_matrix  # [n_users, n_categories], share of a user's items per category
    category_share: np.ndarray  # [n_categories], share of all interactions per category
    item_category: np.ndarray  # [n_items]
    user_log_pop: np.ndarray  # [n_users], mean centred log popularity of the user's items

    @classmethod
    def fit(cls, matrix: sp.csr_matrix, item_category: np.ndarray) -> FeatureContext:
        item_pop = np.log1p(np.asarray(matrix.sum(axis=0)).ravel())
        activity = np.log1p(np.asarray(matrix.sum(axis=1)).ravel())
        n_categories = int(item_category.max()) + 1 if len(item_category) else 1
        onehot = sp.csr_matrix(
            (np.ones(len(item_category), np.float32), (np.arange(len(item_category)), item_category)),
            shape=(len(item_category), n_categories),
        )
        per_user = sp.csr_matrix(matrix @ onehot)
        totals = np.maximum(np.asarray(per_user.sum(axis=1)).ravel(), 1.0)
        shares = sp.csr_matrix(sp.diags(1.0 / totals) @ per_user)
        category = np.asarray(per_user.sum(axis=0)).ravel()
        centred = item_pop - item_pop.mean()
        counts = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1.0)
        user_pop = np.asarray(matrix @ centred).ravel() / counts
        return cls(
            centred, activity - activity.mean(), shares, category / max(category.sum(), 1.0),
            item_category, user_pop,
        )  # fmt: skip

    def features(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """[b, C, len(CONTEXT_FEATURES)] for candidate items [b, C] (-1 = padding, zeros)."""
        safe = np.maximum(items, 0)
        cats = self.item_category[safe]
        affinity = np.take_along_axis(self.user_category_share[users].toarray(), cats, axis=1)
        return np.stack(
            [
                self.item_log_pop[safe],
                np.broadcast_to(self.user_log_activity[users][:, None], items.shape),
                affinity,
                self.category_share[cats],
                self.item_log_pop[safe] - self.user_log_pop[users][:, None],
            ],
            axis=-1,
        ).astype(np.float32)


def standardised(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores over finite entries (masked items are -inf and stay -inf)."""
    finite = np.isfinite(scores)
    filled = np.where(finite, scores, 0.0)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = filled.sum(axis=1, keepdims=True) / count
    var = (np.where(finite, scores - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / count
    return np.where(finite, (scores - mean) / np.sqrt(var + 1e-12), -np.inf)


def ranks(scores: np.ndarray) -> np.ndarray:
    """0-based rank of every item within its row (best = 0), ties broken by position."""
    order = np.argsort(-scores, axis=1, kind="stable")
    out = np.empty_like(order)
    np.put_along_axis(out, order, np.arange(scores.shape[1])[None, :], axis=1)
    return out

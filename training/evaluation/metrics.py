"""Top-k ranking metrics as pure functions over id lists, so any recommender can be scored.

Conventions: binary relevance; recall divides by the number of relevant items; nDCG uses the
log2(rank + 1) discount with the ideal DCG over min(k, |relevant|) hits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp


def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")


def recall_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Share of the relevant items found in the first k recommendations (0 if none relevant)."""
    _check_k(k)
    if not relevant:
        return 0.0
    hits = len(set(recommended[:k]) & relevant)
    return hits / len(relevant)


def ndcg_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Normalized DCG with binary gains; duplicates in ``recommended`` count once."""
    _check_k(k)
    if not relevant:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for rank, item in enumerate(recommended[:k], start=1):
        if item in relevant and item not in seen:
            dcg += 1.0 / math.log2(rank + 1)
        seen.add(item)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def mrr_at_k(recommended: Sequence[str], relevant: set[str], k: int) -> float:
    """Reciprocal rank of the first relevant item within k, else 0."""
    _check_k(k)
    for rank, item in enumerate(recommended[:k], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def catalogue_coverage(
    recommendations: Iterable[Sequence[str]], catalogue_size: int, k: int | None = None
) -> float:
    """Distinct recommended items (top-k of each list if k is given) over the catalogue size."""
    if catalogue_size <= 0:
        return 0.0
    distinct: set[str] = set()
    for items in recommendations:
        distinct.update(items[:k] if k is not None else items)
    return len(distinct) / catalogue_size


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks).

    Returns NaN when only one class is present, where AUC is undefined.
    """
    y = np.asarray(labels).astype(bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    sorted_scores = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # Average rank over each run of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(s)]])
    run_rank = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(run_rank, ends - starts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def evaluate_topk(
    recommend: Callable[[list[str], int], list[list[str]]],
    test: dict[str, set[str]],
    ks: Sequence[int] = (10, 20),
    catalogue_size: int | None = None,
) -> dict[str, float]:
    """Mean recall/nDCG/MRR@k over users with at least one test item, one batched ``recommend`` call.

    Adds ``coverage@k`` when ``catalogue_size`` is given, and ``n_users`` evaluated.
    """
    users = sorted(u for u, items in test.items() if items)
    result: dict[str, float] = {"n_users": float(len(users))}
    if not users:
        return result | {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg", "mrr")}
    lists = recommend(users, max(ks))
    if len(lists) != len(users):
        raise ValueError(f"recommend returned {len(lists)} lists for {len(users)} users")
    pairs = list(zip(users, lists, strict=True))
    for k in ks:
        for name, metric in (("recall", recall_at_k), ("ndcg", ndcg_at_k), ("mrr", mrr_at_k)):
            result[f"{name}@{k}"] = float(np.mean([metric(r, test[u], k) for u, r in pairs]))
        if catalogue_size is not None:
            result[f"coverage@{k}"] = catalogue_coverage(lists, catalogue_size, k)
    return result


# ---- vectorised forms over integer top-k matrices (full-ranking protocols) ----------------------


def hit_matrix(top: np.ndarray, relevant: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    """bool [n_users, K]: whether ``top[r, j]`` (an item position, -1 = empty) is in row ``users[r]``."""
    rows = relevant[users].tocsr()
    hits = np.zeros(top.shape, dtype=bool)
    for r in range(len(users)):
        found = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
        if len(found):
            hits[r] = np.isin(top[r], found)
    return hits & (top >= 0)


def accuracy_metrics(
    hits: np.ndarray, n_relevant: np.ndarray, ks: Sequence[int], mrr_k: int
) -> dict[str, float]:
    """Mean recall@k, ndcg@k (binary gains, same conventions as ``ndcg_at_k``) and mrr@``mrr_k``.

    Rows with no relevant item are skipped; ``hits`` must have at least ``max(ks)`` columns.
    """
    keep = n_relevant > 0
    hits, n_rel = hits[keep].astype(np.float64), n_relevant[keep].astype(np.float64)
    if not len(hits):
        return {f"{m}@{k}": 0.0 for k in ks for m in ("recall", "ndcg")} | {f"mrr@{mrr_k}": 0.0}
    discount = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    ideal_cum = np.cumsum(discount)
    out: dict[str, float] = {}
    for k in ks:
        _check_k(k)
        found = hits[:, :k]
        out[f"recall@{k}"] = float(np.mean(found.sum(axis=1) / n_rel))
        ideal = ideal_cum[np.minimum(n_rel, k).astype(int) - 1]
        out[f"ndcg@{k}"] = float(np.mean((found * discount[:k]).sum(axis=1) / ideal))
    first = hits[:, :mrr_k]
    has = first.any(axis=1)
    out[f"mrr@{mrr_k}"] = float(np.mean(np.where(has, 1.0 / (first.argmax(axis=1) + 1), 0.0)))
    return out

"""Score one model's full-ranking lists on a protocol: accuracy, beyond-accuracy and cold slices."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from training.evaluation.beyond import (
    coverage,
    intra_list_diversity,
    novelty,
    popularity_bins,
    popularity_shares,
)
from training.evaluation.config import MetricConfig
from training.evaluation.metrics import accuracy_metrics, hit_matrix
from training.recommenders.base import Recommender, top_k


def list_length(config: MetricConfig) -> int:
    return max(*config.ks, *config.plot_ks, config.mrr_k, config.beyond_k)


def evaluation_users(test: sp.csr_matrix) -> np.ndarray:
    """Users with at least one test item: the only ones a ranking metric is defined for."""
    return np.flatnonzero(np.diff(test.indptr) > 0)


def _slice(hits: np.ndarray, n_rel: np.ndarray, rows: np.ndarray, config: MetricConfig) -> dict[str, float]:
    selected = rows & (n_rel > 0)
    out: dict[str, float] = {"n_users": float(selected.sum())}
    if not selected.any():
        return out
    acc = accuracy_metrics(hits[selected], n_rel[selected], (config.ks[0], max(config.ks)), config.mrr_k)
    return out | {
        f"ndcg@{config.ks[0]}": acc[f"ndcg@{config.ks[0]}"],
        f"recall@{max(config.ks)}": acc[f"recall@{max(config.ks)}"],
    }


def evaluate_lists(
    top: np.ndarray,
    users: np.ndarray,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    item_category: np.ndarray,
    config: MetricConfig,
) -> dict[str, Any]:
    """Metrics of item-position lists ``top`` [len(users), K] against each user's test row."""
    n_users, n_items = train.shape
    hits = hit_matrix(top, test, users)
    n_rel = np.diff(test[users].indptr)
    result: dict[str, Any] = {"n_users": len(users)}
    result |= accuracy_metrics(hits, n_rel, config.ks, config.mrr_k)
    for k in config.ks:
        result[f"coverage@{k}"] = coverage(top[:, :k], n_items)
    head = top[:, : config.beyond_k]
    item_users = np.asarray(train.sum(axis=0)).ravel()
    b = config.beyond_k
    result[f"diversity@{b}"] = intra_list_diversity(head, item_category)
    result[f"novelty@{b}"] = novelty(head, item_users, n_users)
    bins = popularity_bins(item_users, config.popularity_bins)
    result[f"popularity_deciles@{b}"] = [
        round(s, 4) for s in popularity_shares(head, bins, config.popularity_bins)
    ]
    curve = accuracy_metrics(hits, n_rel, config.plot_ks, config.mrr_k)
    result["curve"] = {m: {str(k): curve[f"{m}@{k}"] for k in config.plot_ks} for m in ("ndcg", "recall")}
    train_counts = np.diff(train[users].indptr)
    result["cold_users"] = _slice(hits, n_rel, train_counts <= config.cold_user_max_train, config)
    cold_items = sp.csr_matrix(test[users].multiply((item_users <= config.cold_item_max_train)[None, :]))
    cold_items.eliminate_zeros()
    cold_hits = hit_matrix(top, cold_items, np.arange(len(users)))
    result["cold_items"] = _slice(cold_hits, np.diff(cold_items.indptr), np.ones(len(users), bool), config)
    return result


def evaluate_model(
    model: Recommender,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    item_category: np.ndarray,
    config: MetricConfig,
    users: np.ndarray | None = None,
) -> dict[str, Any]:
    """Full ranking over each user's unseen items (train rows excluded), then ``evaluate_lists``."""
    users = evaluation_users(test) if users is None else users
    top = top_k(model, train, users, list_length(config), config.user_batch)
    return evaluate_lists(top, users, train, test, item_category, config)

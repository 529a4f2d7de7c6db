"""Vectorised ranking metrics, beyond-accuracy metrics and slices against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from training.evaluation.beyond import (
    coverage,
    intra_list_diversity,
    novelty,
    popularity_bins,
    popularity_shares,
)
from training.evaluation.config import MetricConfig
from training.evaluation.metrics import accuracy_metrics, hit_matrix, mrr_at_k, ndcg_at_k, recall_at_k
from training.evaluation.report import evaluate_lists


def _csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    data = [(r, c) for r, cols in enumerate(rows) for c in cols]
    r, c = zip(*data, strict=True) if data else ((), ())
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(rows), n_items))


def test_hit_matrix_ignores_padding() -> None:
    test = _csr([[1, 3], [0]], 5)
    top = np.array([[3, 2, 1, -1], [-1, -1, -1, -1]])
    assert hit_matrix(top, test, np.array([0, 1])).tolist() == [[True, False, True, False], [False] * 4]


def test_accuracy_metrics_match_the_scalar_definitions() -> None:
    # user 0: hits at ranks 1 and 3, 3 relevant; user 1: first hit at rank 2, 1 relevant.
    hits = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
    n_rel = np.array([3, 1])
    got = accuracy_metrics(hits, n_rel, ks=(2, 4), mrr_k=4)
    ndcg0_4 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    ndcg1_4 = (1 / math.log2(3)) / 1.0
    assert got["ndcg@4"] == pytest.approx((ndcg0_4 + ndcg1_4) / 2)
    assert got["recall@2"] == pytest.approx((1 / 3 + 1) / 2)
    assert got["mrr@4"] == pytest.approx((1 + 0.5) / 2)
    # the same numbers through the per-list functions
    lists, relevant = [["a", "x", "b", "y"], ["x", "a", "y", "z"]], [{"a", "b", "c"}, {"a"}]
    assert got["ndcg@2"] == pytest.approx(
        np.mean([ndcg_at_k(r, s, 2) for r, s in zip(lists, relevant, strict=True)])
    )
    assert got["recall@4"] == pytest.approx(
        np.mean([recall_at_k(r, s, 4) for r, s in zip(lists, relevant, strict=True)])
    )
    assert got["mrr@4"] == pytest.approx(
        np.mean([mrr_at_k(r, s, 4) for r, s in zip(lists, relevant, strict=True)])
    )


def test_users_without_relevant_items_are_skipped() -> None:
    got = accuracy_metrics(np.array([[1, 0], [0, 0]], bool), np.array([1, 0]), ks=(2,), mrr_k=2)
    assert got["ndcg@2"] == pytest.approx(1.0) and got["recall@2"] == pytest.approx(1.0)


def test_beyond_accuracy_hand_computed() -> None:
    category = np.array([0, 0, 1, 2])
    # list [0, 1, 2]: ordered pairs 6, same-category pairs 2 -> 1 - 2/6; list [0, 2]: all differ -> 1
    assert intra_list_diversity(np.array([[0, 1, 2], [0, 2, -1]]), category) == pytest.approx((2 / 3 + 1) / 2)
    item_users = np.array([1, 4, 0, 2])
    # -log2(1/4) = 2, -log2(4/4) = 0, unseen item counts as one user -> 2
    assert novelty(np.array([[0, 1, 2]]), item_users, n_users=4) == pytest.approx(4 / 3)
    assert coverage(np.array([[0, 1], [1, -1]]), 4) == pytest.approx(0.5)


def test_popularity_deciles() -> None:
    counts = np.arange(10)
    bins = popularity_bins(counts, 10)
    assert bins.tolist() == list(range(10))
    shares = popularity_shares(np.array([[9, 8], [9, -1]]), bins, 10)
    assert (
        shares[9] == pytest.approx(2 / 3)
        and shares[8] == pytest.approx(1 / 3)
        and sum(shares) == pytest.approx(1)
    )


def test_cold_slices() -> None:
    config = MetricConfig(
        ks=(1, 2), plot_ks=(1, 2), mrr_k=1, beyond_k=2, cold_user_max_train=1, cold_item_max_train=1
    )
    # user 0 has two train items (warm), user 1 one (cold); items 2 and 3 have no training user (cold).
    train = _csr([[0, 1], [0]], 4)
    test = _csr([[3], [2]], 4)
    top = np.array([[3, 2], [3, 2]])
    got = evaluate_lists(top, np.array([0, 1]), train, test, np.array([0, 0, 1, 1]), config)
    assert got["ndcg@1"] == pytest.approx(0.5)  # user 0 hits at rank 1, user 1 at rank 2
    assert got["cold_users"] == {"n_users": 1.0, "ndcg@1": 0.0, "recall@2": 1.0}
    assert got["cold_items"]["n_users"] == 2.0  # items 2 and 3 have <= 1 training user
    assert got["coverage@2"] == pytest.approx(0.5)
    assert got["curve"]["recall"]["2"] == pytest.approx(1.0)

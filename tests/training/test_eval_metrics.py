"""Metric functions against hand-computed values, the popularity baseline and the holdout split."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from training.evaluation.baselines import EmbeddingRecommender, PopularityRecommender
from training.evaluation.holdout import target_items, temporal_split
from training.evaluation.metrics import (
    catalogue_coverage,
    evaluate_topk,
    mrr_at_k,
    ndcg_at_k,
    recall_at_k,
    roc_auc,
)


def test_recall_at_k() -> None:
    recommended = ["a", "b", "c", "d"]
    assert recall_at_k(recommended, {"b", "d", "x"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(recommended, {"b", "d", "x"}, 4) == pytest.approx(2 / 3)
    assert recall_at_k(recommended, set(), 4) == 0.0
    with pytest.raises(ValueError):
        recall_at_k(recommended, {"a"}, 0)


def test_ndcg_at_k() -> None:
    # hits at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3)
    assert ndcg_at_k(["a", "b", "c"], {"a", "c"}, 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # ideal DCG only counts min(k, |relevant|) = 2 hits even though 3 items are relevant
    ideal = 1 + 1 / math.log2(3)
    assert ndcg_at_k(["x", "a"], {"a", "b", "c"}, 2) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 2) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0


def test_mrr_at_k() -> None:
    assert mrr_at_k(["x", "y", "a"], {"a"}, 3) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], {"a"}, 2) == 0.0
    assert mrr_at_k(["a", "b"], {"a", "b"}, 2) == 1.0


def test_catalogue_coverage() -> None:
    assert catalogue_coverage([["a", "b"], ["b", "c"]], 10) == pytest.approx(0.3)
    assert catalogue_coverage([["a", "b"], ["c", "d"]], 10, k=1) == pytest.approx(0.2)
    assert catalogue_coverage([], 0) == 0.0


def test_roc_auc_hand_computed() -> None:
    # positive pairs ranked correctly: (0.35>0.1), (0.8>0.1), (0.8>0.4); wrong: (0.35<0.4) -> 3/4
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert math.isnan(roc_auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_evaluate_topk_averages_users_with_target_items() -> None:
    lists = {"u1": ["a", "b", "c"], "u2": ["x", "y", "z"], "u3": ["a"]}
    calls: list[list[str]] = []

    def recommend(users: list[str], k: int) -> list[list[str]]:
        calls.append(users)
        return [lists[u][:k] for u in users]

    test = {"u1": {"a"}, "u2": {"z", "q"}, "u3": set()}
    result = evaluate_topk(recommend, test, ks=(1, 3), catalogue_size=10)
    assert calls == [["u1", "u2"]]  # one batched call; u3 has no test items
    assert result["n_users"] == 2
    assert result["recall@1"] == pytest.approx(0.5)
    assert result["recall@3"] == pytest.approx((1 + 0.5) / 2)
    assert result["mrr@3"] == pytest.approx((1 + 1 / 3) / 2)
    assert result["coverage@3"] == pytest.approx(0.6)


def _events(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "event_type": [r[2] for r in rows],
            "timestamp": pd.to_datetime([r[3] for r in rows], unit="s", utc=True),
        }
    )


def test_popularity_excludes_seen_items_and_orders_by_weight() -> None:
    train = _events(
        [
            ("u1", "a", "purchase", 1),
            ("u2", "a", "click", 2),
            ("u2", "b", "click", 3),
            ("u3", "c", "view", 4),
            ("u3", "d", "impression", 5),
        ]
    )
    model = PopularityRecommender().fit(train)
    assert model.ranking == ["a", "b", "c"]  # impressions are not positives
    assert model.recommend(["u1", "new"], 2) == [["b", "c"], ["a", "b"]]


def test_temporal_split_keeps_train_strictly_earlier() -> None:
    rows = [("u1", f"i{t}", "click", t) for t in range(10)]
    rows += [("u1", "z", "impression", 20), ("u2", "a", "view", 1)]
    train, test = temporal_split(_events(rows), test_fraction=0.2)
    assert sorted(test["item_id"]) == ["i8", "i9"]
    assert set(train["item_id"]) == {f"i{t}" for t in range(8)} | {"a"}  # later impression dropped too
    assert set(train["event_type"]) <= set(POSITIVE_EVENT_WEIGHTS) | {"impression"}
    assert target_items(train, test) == {"u1": {"i8", "i9"}}


def test_embedding_recommender_excludes_seen() -> None:
    items = np.eye(3, dtype=np.float32)
    rec = EmbeddingRecommender(["u"], np.array([[1.0, 0.5, 0.1]]), ["a", "b", "c"], items, seen={"u": {"a"}})
    assert rec(["u", "ghost"], 2) == [["b", "c"], []]

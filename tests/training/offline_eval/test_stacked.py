"""The stacked recommender: candidates from several sources, a listwise ranker, valid full rankings."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from training.evaluation.config import MetricConfig
from training.evaluation.interactions import Interactions
from training.evaluation.protocols import replays, split
from training.evaluation.report import evaluate_model
from training.models.ranking.losses import listwise_loss
from training.recommenders import EASERecommender, ItemKNNRecommender, PopularityRecommender
from training.recommenders.base import top_k
from training.stacking.candidates import build_candidates
from training.stacking.config import StackingConfig
from training.stacking.features import FeatureContext, source_feature_names
from training.stacking.stacked import StackedRecommender

SOURCES = {
    "ease": functools.partial(EASERecommender, l2=10.0),
    "itemknn": functools.partial(ItemKNNRecommender, neighbours=20, shrink=5.0),
    "popularity": PopularityRecommender,
}
SMALL = replace(
    StackingConfig(), sources=tuple(SOURCES), n_candidates=30, max_epochs=5, hidden_dims=(16,), n_rankers=2
)


def test_listwise_loss_hand_computed() -> None:
    scores = torch.tensor([[0.0, 0.0, 5.0]])
    labels = torch.tensor([[1.0, 0.0, 0.0]])
    valid = torch.tensor([[True, True, False]])
    assert listwise_loss(scores, labels, valid).item() == pytest.approx(math.log(2))  # masked slot ignored
    none = torch.zeros_like(labels)
    assert listwise_loss(scores, none, valid).item() == 0.0


def test_candidates_are_the_union_of_sources_and_exclude_seen(blocks: Interactions) -> None:
    matrix = blocks.matrix()
    sources = {name: make().fit(matrix) for name, make in SOURCES.items()}
    users = np.arange(10)
    cands = build_candidates(sources, matrix, users, 15, FeatureContext.fit(matrix, blocks.item_category), 4)
    assert cands.features.shape == (10, 15, len(source_feature_names(tuple(SOURCES))))
    assert np.isfinite(cands.features).all()
    for name, model in sources.items():
        best = top_k(model, matrix, users, 1)[:, 0]
        assert all(b in row for b, row in zip(best, cands.items, strict=True)), f"{name}'s best item missing"
    for r, user in enumerate(users):
        assert not set(cands.items[r]) & set(matrix[user].indices)
        assert len(set(cands.items[r])) == 15


def test_stacked_runs_end_to_end_and_ranks_validly(blocks: Interactions) -> None:
    s = split(blocks, "temporal", seed=0)
    train, test = s.part("train").matrix(), s.part("test").matrix()
    stacked = StackedRecommender(SOURCES, blocks.item_category, SMALL)
    folds = [(blocks.subset(a).matrix(), blocks.subset(b).matrix()) for a, b in replays(s, 1, seed=0)]
    stacked.fit(train, s.part("val_train").matrix(), s.part("val").matrix(), folds)
    users = np.arange(blocks.n_users)
    top = top_k(stacked, train, users, 10)
    for user, row in zip(users, top, strict=True):
        items = row[row >= 0]
        assert len(items) == 10 and len(set(items)) == 10
        assert not set(items) & set(train[user].indices)
    config = MetricConfig(ks=(10, 20), plot_ks=(10, 20))
    ours = evaluate_model(stacked, train, test, blocks.item_category, config)
    popular = evaluate_model(PopularityRecommender().fit(train), train, test, blocks.item_category, config)
    assert ours["ndcg@10"] > popular["ndcg@10"]
    assert stacked.report["val_candidate_recall"] > 0.5
    assert set(stacked.report["retrieved_by"]) == set(SOURCES)
    assert stacked.report["replays"] == 1 and stacked.report["ranker"]["rankers"] == 2
    assert 0 <= stacked.report["ranker"]["best_epoch"] < SMALL.max_epochs

"""Tiny planted worlds shared by the training tests (built once per session, no mocks).

200 users / 300 items in 10 categories; each user mostly interacts with one category, 5% of the
items never appear in events (cold items). Small enough that the whole suite trains in seconds.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from training.config import RankerConfig, RetrievalConfig
from training.evaluation.holdout import temporal_split
from training.retrieval import RetrievalArtifacts, train_retrieval
from training.synthetic import SyntheticWorld, synthetic_ranking_frame, synthetic_world


@pytest.fixture(scope="session")
def world() -> SyntheticWorld:
    return synthetic_world(n_users=200, n_items=300, n_events=12_000, n_categories=10, seed=0)


@pytest.fixture(scope="session")
def holdout(world: SyntheticWorld) -> tuple[pd.DataFrame, pd.DataFrame]:
    return temporal_split(world.events, test_fraction=0.2)


@pytest.fixture(scope="session")
def small_retrieval_config() -> RetrievalConfig:
    return replace(
        RetrievalConfig(),
        embedding_dim=32,
        hidden_dim=64,
        side_dim=8,
        title_dim=16,
        title_hash_buckets=1024,
        batch_size=256,
        max_epochs=30,
        max_steps=10_000,
        seed=3,
    )


@pytest.fixture(scope="session")
def trained(
    world: SyntheticWorld, holdout: tuple[pd.DataFrame, pd.DataFrame], small_retrieval_config: RetrievalConfig
) -> RetrievalArtifacts:
    train, _ = holdout
    return train_retrieval(world.users, world.items, train, small_retrieval_config, progress=False)


@pytest.fixture(scope="session")
def ranking_frame() -> pd.DataFrame:
    return synthetic_ranking_frame(n_rows=20_000, seed=1)


@pytest.fixture(scope="session")
def small_ranker_config() -> RankerConfig:
    return replace(RankerConfig(), hidden_dims=(32, 16), head_dim=8, max_list=50, max_epochs=6)

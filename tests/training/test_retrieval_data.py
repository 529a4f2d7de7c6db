"""Vocabulary, featurization, positive pairs and the retrieval datamodule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from contracts.schemas import EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from training.config import RetrievalConfig
from training.data.features import ITEM_KEYS, RECENT_KEY, USER_KEYS, hash_title_tokens, price_buckets
from training.data.retrieval import RetrievalDataModule, positive_pairs
from training.data.vocab import UNKNOWN_INDEX, IdVocab
from training.synthetic import SyntheticWorld


def test_synthetic_world_follows_the_schemas(world: SyntheticWorld) -> None:
    pairs = ((world.users, USERS_SCHEMA), (world.items, ITEMS_SCHEMA), (world.events, EVENTS_SCHEMA))
    for frame, schema in pairs:
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        assert table.num_rows == len(frame)


def test_vocab_reserves_zero_and_round_trips(tmp_path) -> None:
    vocab = IdVocab.from_values(["b", "a", None, "a"])
    assert vocab.ids == ["a", "b"] and vocab.size == 3
    assert vocab.encode(["a", "b", "zzz", None]).tolist() == [1, 2, UNKNOWN_INDEX, UNKNOWN_INDEX]
    assert vocab.index("b") == 2 and vocab.index("nope") == UNKNOWN_INDEX
    assert vocab.decode([0, 1, 2]) == [None, "a", "b"]
    vocab.save(tmp_path / "v.json")
    assert IdVocab.load(tmp_path / "v.json") == vocab


def test_price_buckets_are_log_scale_with_nan_bucket() -> None:
    config = RetrievalConfig()
    buckets = price_buckets(np.array([np.nan, 0.5, 5.0, 50.0, 500.0, 1e9]), config)
    assert buckets[0] == 0
    assert list(buckets[1:]) == sorted(buckets[1:]) and len(set(buckets[1:])) == 5
    assert buckets.max() <= config.price_buckets


def test_title_hashing_is_deterministic_and_padded() -> None:
    config = replace(RetrievalConfig(), max_title_tokens=4, title_hash_buckets=101)
    tokens = hash_title_tokens(pd.Series(["Red Shoe", "red shoe!", None, "a b c d e f"]), config)
    assert tokens.shape == (4, 4)
    assert (tokens[0] == tokens[1]).all() and tokens[0, 2:].tolist() == [0, 0]
    assert tokens[2].tolist() == [0, 0, 0, 0]
    assert ((tokens[3] > 0) & (tokens[3] < 101)).all()


def test_positive_pairs_sum_capped_weights_and_drop_unknowns() -> None:
    users = pd.DataFrame({"user_id": ["u1", "u2"]})
    items = pd.DataFrame({"item_id": ["a", "b"]})
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1", "u2", "u2", "ghost", "u2"],
            "item_id": ["a", "a", "a", "b", "b", "a", "nope"],
            "event_type": ["click", "purchase", "share", "impression", "view", "click", "click"],
        }
    )
    pairs = positive_pairs(users, items, events, max_weight=5.0)
    assert pairs[["user_row", "item_row"]].values.tolist() == [[0, 0], [1, 1]]
    assert pairs["weight"].tolist() == [5.0, 0.5]  # 1 + 3 + 2 capped at 5; the impression adds nothing


def test_datamodule_split_is_seeded_and_batches_carry_both_towers(
    world: SyntheticWorld, small_retrieval_config: RetrievalConfig
) -> None:
    first = RetrievalDataModule(world.users, world.items, world.events, small_retrieval_config)
    second = RetrievalDataModule(world.users, world.items, world.events, small_retrieval_config)
    first.setup("fit")
    second.setup("fit")
    assert first.train_set is not None and first.val_set is not None and second.val_set is not None
    assert len(first.train_set) + len(first.val_set) == first.n_pairs
    assert len(first.val_set) == round(first.n_pairs * small_retrieval_config.val_fraction)
    assert first.val_set.columns["user_idx"].equal(second.val_set.columns["user_idx"])
    batch = next(iter(first.train_dataloader()))
    assert set(batch) == {*USER_KEYS, RECENT_KEY, *ITEM_KEYS, "weight", "log_q"}
    assert len(batch["weight"]) == small_retrieval_config.batch_size
    assert batch["title_tokens"].shape[1] == small_retrieval_config.max_title_tokens
    assert (batch["log_q"] < 0).all() and (batch["item_idx"] > 0).all()
    # cold items have no pairs, so they are not in the id vocabulary: they embed from side features
    assert first.featurizer is not None
    assert all(item not in first.featurizer.item_vocab for item in world.cold_items)


def test_datamodule_refuses_a_world_without_positives(world: SyntheticWorld) -> None:
    negatives = world.events[world.events["event_type"] == "impression"]
    with pytest.raises(ValueError, match="no positive events"):
        RetrievalDataModule(world.users, world.items, negatives).setup("fit")

"""The user tower's recent-items bag: what goes in it, what training hides, what it changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.config import RetrievalConfig
from training.data.features import RECENT_KEY
from training.data.retrieval import RetrievalDataModule
from training.data.vocab import UNKNOWN_INDEX
from training.retrieval import RetrievalArtifacts, embed_users
from training.synthetic import SyntheticWorld


def _events(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    base = pd.Timestamp("2026-01-01", tz="UTC")
    return pd.DataFrame(
        [(u, i, kind, base + pd.Timedelta(minutes=m)) for u, i, kind, m in rows],
        columns=["user_id", "item_id", "event_type", "timestamp"],
    )


def test_bag_holds_latest_distinct_positives_newest_first(trained: RetrievalArtifacts) -> None:
    featurizer = trained.featurizer
    items = trained.item_ids
    events = _events(
        [
            ("u-a", items[0], "click", 1),
            ("u-a", items[1], "purchase", 2),
            ("u-a", items[0], "click", 3),  # again: one slot, now the newest
            ("u-a", items[2], "impression", 4),  # shown, not engaged: not in the bag
            ("u-b", "not-in-catalogue", "click", 1),
        ]
    )
    users = pd.DataFrame({"user_id": ["u-a", "u-b", "u-c"]})
    bag = featurizer.recent_item_array(users, events)
    assert bag.shape == (3, featurizer.config.recent_items)
    vocab = featurizer.item_vocab
    assert bag[0, :2].tolist() == [vocab.index(items[0]), vocab.index(items[1])]
    assert (bag[0, 2:] == UNKNOWN_INDEX).all()
    assert (bag[1:] == UNKNOWN_INDEX).all(), "unknown items and users without history leave it empty"


def test_bag_keeps_only_the_configured_number(trained: RetrievalArtifacts) -> None:
    featurizer = trained.featurizer
    width = featurizer.config.recent_items
    events = _events([("u", item, "click", k) for k, item in enumerate(trained.item_ids[: width + 5])])
    bag = featurizer.recent_item_array(pd.DataFrame({"user_id": ["u"]}), events)
    newest = [featurizer.item_vocab.index(i) for i in reversed(trained.item_ids[5 : width + 5])]
    assert bag[0].tolist() == newest


def test_training_rows_never_see_their_own_item_in_the_bag(
    world: SyntheticWorld, small_retrieval_config: RetrievalConfig
) -> None:
    datamodule = RetrievalDataModule(world.users, world.items, world.events, small_retrieval_config)
    datamodule.setup("fit")
    assert datamodule.train_set is not None
    columns = datamodule.train_set.columns
    bags, targets = columns[RECENT_KEY], columns["item_idx"]
    assert not (bags == targets.unsqueeze(1)).any(), "the target leaked into the user's bag"
    assert (bags != UNKNOWN_INDEX).any(dim=1).float().mean() > 0.5, "most rows carry a history"


def test_history_moves_a_users_vector_and_no_history_still_embeds(
    world: SyntheticWorld, trained: RetrievalArtifacts
) -> None:
    users = world.users.head(20)
    without = embed_users(trained, users)
    with_history = embed_users(trained, users, world.events)
    assert np.isfinite(without).all() and np.isfinite(with_history).all()
    np.testing.assert_allclose(np.linalg.norm(without, axis=1), 1.0, atol=1e-5)
    moved = 1.0 - (without * with_history).sum(axis=1)
    assert (moved > 1e-4).mean() > 0.5, "the bag must change the query for users with history"

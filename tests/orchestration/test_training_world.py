"""The world a protocol's platform is built from: the training part, no less and no more."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.world.io import WorldTables
from orchestration.defs.evaluation.served import training_world
from training.evaluation.interactions import from_events
from training.evaluation.protocols import Split

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _world() -> WorldTables:
    rows = [  # (item, seconds after T0, event type)
        ("a", 0, "click"),
        ("b", 10, "click"),
        ("c", 20, "click"),  # same second as the test item d: a training rating all the same
        ("d", 20, "click"),  # the test pair
        ("a", 20, "impression"),
        ("e", 30, "click"),  # after the first test interaction: held out with it
        ("b", 30, "impression"),  # shown after it: would leak what came next
    ]
    events = pd.DataFrame(
        {
            "user_id": "u1",
            "item_id": [r[0] for r in rows],
            "timestamp": [T0 + pd.Timedelta(seconds=r[1]) for r in rows],
            "event_type": [r[2] for r in rows],
        }
    )
    items = pd.DataFrame({"item_id": list("abcde"), "category": "c"})
    return WorldTables(pd.DataFrame({"user_id": ["u1"]}), items, events)


def test_a_time_ordered_split_keeps_the_ties_of_the_first_test_interaction() -> None:
    world = _world()
    data = from_events(world.events, world.items)
    ids = data.item_ids[data.items]
    test = np.isin(ids, ["d", "e"])
    split = Split("temporal", data, ~test, test, ~test, np.zeros(len(ids), dtype=bool))
    kept = training_world(world, data, split).events
    assert sorted(zip(kept["item_id"], kept["event_type"], strict=True)) == [
        ("a", "click"), ("a", "impression"), ("b", "click"), ("c", "click"),
    ]  # fmt: skip


def test_a_random_split_drops_only_the_test_pairs() -> None:
    world = _world()
    data = from_events(world.events, world.items)
    ids = data.item_ids[data.items]
    test = np.isin(ids, ["b"])
    split = Split("random", data, ~test, test, ~test, np.zeros(len(ids), dtype=bool))
    kept = training_world(world, data, split).events
    assert sorted(kept["item_id"]) == ["a", "a", "c", "d", "e"]

"""The in-memory item-feature table: rows gathered in request order, writes swapped in whole."""

from __future__ import annotations

import numpy as np

from bento.item_table import ItemFeatureTable, as_column
from contracts.features import ITEM_STATS_FEATURES


def columns(prices: list[float | None], categories: list[str | None]) -> dict[str, np.ndarray]:
    return {
        "item_price": as_column("item_price", prices),
        "item_category": as_column("item_category", categories),
        "item_sponsored": as_column("item_sponsored", [True] * len(prices)),
    }


def test_gather_follows_the_request_order_and_marks_unknown_items() -> None:
    table = ItemFeatureTable()
    table.replace(["a", "b", "c"], columns([1.0, None, 3.0], ["x", None, "z"]))
    got, unknown = table.gather(["c", "zz", "a", "b"])
    assert set(got) == set(ITEM_STATS_FEATURES), "every feature, missing ones as missing values"
    np.testing.assert_array_equal(got["item_price"], [3.0, np.nan, 1.0, np.nan])
    assert got["item_category"].tolist() == ["z", "", "x", ""]
    np.testing.assert_array_equal(got["item_sponsored"], [1.0, np.nan, 1.0, 1.0])
    assert np.isnan(got["item_ctr"]).all(), "a feature Feast never gave is missing on every row"
    assert unknown.tolist() == [False, True, False, False]


def test_upsert_overwrites_adds_and_leaves_a_gathered_request_alone() -> None:
    table = ItemFeatureTable()
    table.replace(["a", "b"], columns([1.0, 2.0], ["x", "y"]))
    before, _ = table.gather(["a", "b"])
    table.upsert(["b", "new"], columns([20.0, 5.0], ["a much longer category", "n"]))
    after, unknown = table.gather(["a", "b", "new"])
    assert after["item_price"].tolist() == [1.0, 20.0, 5.0] and not unknown.any()
    assert after["item_category"].tolist() == ["x", "a much longer category", "n"], "never truncated"
    assert before["item_price"].tolist() == [1.0, 2.0], "a request keeps the rows it gathered"
    assert len(table) == 3 and "new" in table


def test_dropped_items_are_unknown_again() -> None:
    table = ItemFeatureTable()
    table.replace(["a", "b", "c"], columns([1.0, 2.0, 3.0], ["x", "y", "z"]))
    table.drop(["b", "not-there"])
    got, unknown = table.gather(["a", "b", "c"])
    assert unknown.tolist() == [False, True, False]
    assert got["item_price"][[0, 2]].tolist() == [1.0, 3.0] and len(table) == 2

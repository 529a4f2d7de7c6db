"""Item features held as columns, over the real tiny world's Feast store: loaded in batched reads,
read through Feast where the table lacks an item, refreshed on a catalogue write and reloaded when
a materialization lands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bento.bundle import ServingBundle
from bento.catalogue.filter_store import FilterStore
from bento.catalogue.writes import CatalogueWriter
from bento.features import ITEM_REFS, OnlineFeatures
from bento.item_refresh import ItemTableRefresher, materialized_until
from bento.item_table import STRING_FEATURES
from contracts import slis
from contracts.api import ItemUpdate
from contracts.features import ITEM_STATS_FEATURES, ITEM_STATS_VIEW
from contracts.settings import load_settings
from feature_repo.store import open_store


@pytest.fixture(scope="module")
def store(tiny_platform):
    return open_store(load_settings())


@pytest.fixture(scope="module")
def ids(tiny_platform) -> list[str]:
    bundle = ServingBundle.load(load_settings().paths.artifacts / "staging")
    return bundle.catalogue.index.tolist()


class StoreDown:
    def get_online_features(self, **_: object):
        raise ConnectionError("online store unreachable")


def feast_rows(store, item_ids: list[str]) -> dict[str, list]:
    return store.get_online_features(
        features=ITEM_REFS, entity_rows=[{"item_id": i} for i in item_ids]
    ).to_dict()


def assert_same_as_feast(columns: dict[str, np.ndarray], raw: dict[str, list]) -> None:
    for name in ITEM_STATS_FEATURES:
        for got, want in zip(columns[name].tolist(), raw[name], strict=True):
            if name in STRING_FEATURES:
                assert got == ("" if want is None else want), name
            else:
                assert (np.isnan(got) and want is None) or got == float(want), (name, got, want)


def test_the_loaded_table_holds_what_feast_serves(store, ids) -> None:
    features = OnlineFeatures(store)
    assert features.load_items(ids, batch=64) == len(ids) > 64, "several batched reads"
    columns, unknown = features.item_table.gather(ids[::-1])
    assert not unknown.any()
    assert_same_as_feast(columns, feast_rows(store, ids[::-1]))


def test_items_outside_the_table_are_read_through_feast_and_kept(store, ids) -> None:
    lookups: list[tuple[bool, int]] = []
    features = OnlineFeatures(store, on_item_lookup=lambda hit, n: lookups.append((hit, n)))
    empty, _ = features.items_or_cached(ids[:5])  # an empty table: every row read, none cut short
    assert_same_as_feast(empty, feast_rows(store, ids[:5]))
    lookups.clear()
    features.load_items(ids[:10])
    columns, fault = features.items_or_cached(ids[:20])
    assert fault is None and lookups == [(True, 10), (False, 10)], "one count per request"
    assert_same_as_feast(columns, feast_rows(store, ids[:20]))
    assert len(features.item_table) == 20, "the ten read are held for the next request"

    down = OnlineFeatures(StoreDown())  # type: ignore[arg-type]
    down.item_table = features.item_table
    columns, fault = down.items_or_cached(ids[:25])
    assert fault is not None and fault.kind == slis.FEATURE_STORE_DOWN
    assert not np.isnan(columns["item_popularity"][:20]).all(), "the held rows still serve"
    assert np.isnan(columns["item_popularity"][20:]).all(), "the unread rows are neutral"
    _, fault = down.items_or_cached(ids[:25], cached_only=True)
    assert fault is None, "cached only: no read attempted"


def test_a_catalogue_write_refreshes_the_item_s_row(store, ids, tmp_path) -> None:
    features = OnlineFeatures(store)
    features.load_items(ids)
    item = ids[-1]
    original = features.items([item]).reset_index()
    bundle = ServingBundle.load(load_settings().paths.artifacts / "staging")
    filters = FilterStore(tmp_path / "filters.db")
    filters.seed(bundle.catalogue)
    writer = CatalogueWriter(filters, bundle, features, store)
    try:
        in_stock = bool(features.item_table.gather([item])[0]["item_in_stock"][0])
        writer.update(ItemUpdate(item_id=item, in_stock=not in_stock))
        assert features.item_table.gather([item])[0]["item_in_stock"][0] == float(not in_stock)
    finally:  # the shared tiny store goes back to what the loop materialized
        original["event_timestamp"] = datetime.now(UTC) + timedelta(seconds=1)
        store.write_to_online_store(ITEM_STATS_VIEW, original)
        filters.close()


def test_a_new_materialization_reloads_the_table(store, ids) -> None:
    features = OnlineFeatures(store)
    features.load_items(ids)
    refresher = ItemTableRefresher(features, features.own_connection(), lambda: ids)
    assert not refresher.poll(), "nothing materialized since the table was loaded"
    features.item_table.upsert([ids[0]], {"item_price": np.array([-1.0])})  # a stale row
    start, end = store.get_feature_view(ITEM_STATS_VIEW).materialization_intervals[-1]
    store.materialize(start_date=start, end_date=end + timedelta(seconds=1), feature_views=[ITEM_STATS_VIEW])
    assert materialized_until(store) > end
    assert refresher.poll() and refresher.reloads == 1
    columns, _ = features.item_table.gather(ids)
    assert_same_as_feast(columns, feast_rows(store, ids))
    assert not refresher.poll(), "reloaded once per materialization"

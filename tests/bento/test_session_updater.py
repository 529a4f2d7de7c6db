"""The streaming feature updater: logged events become session features, each counted once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from feast import FeatureStore

from bento.catalogue.filter_store import FilterStore
from bento.features import OnlineFeatures
from bento.ingestion.event_log import EventLog
from bento.ingestion.events import EventIngestor
from bento.ingestion.session_updater import (
    filter_store_categories,
    fold_user_events,
    session_consumer,
    start_in_background,
    wait_caught_up,
)
from contracts.api import EventIn
from contracts.features import SESSION_DEFAULTS
from contracts.settings import load_settings
from feature_repo.store import apply_definitions, open_store

CATALOGUE = pd.DataFrame(
    {
        "category": ["books", "music", "games"],
        "brand": "b",
        "title": "t",
        "price": 1.0,
        "created_at": pd.Timestamp("2026-01-01", tz="UTC"),
        "in_stock": True,
        "sponsored": False,
    },
    index=pd.Index(["i1", "i2", "i3"], name="item_id"),
)


def _record(user: str, item: str, kind: str = "click") -> dict:
    return {"user_id": user, "item_id": item, "event_type": kind, "timestamp": "2026-06-01T00:00:00+00:00"}


def test_fold_skips_events_at_or_below_the_applied_offset() -> None:
    categories = {"i1": "books", "i2": "music"}.__getitem__
    first = fold_user_events(SESSION_DEFAULTS, [(0, _record("u", "i1"))], categories)
    assert first is not None and first["session_log_offset"] == 0 and first["session_clicks"] == 1
    redelivered = [(0, _record("u", "i1")), (1, _record("u", "i2"))]
    second = fold_user_events(first, redelivered, categories)
    assert second is not None
    assert second["session_clicks"] == 2, "offset 0 was already folded in"
    assert second["session_item_ids"] == ["i1", "i2"] and second["session_log_offset"] == 1
    assert fold_user_events(second, redelivered, categories) is None


class FlakyStore:
    """Feast's store, except that pushes fail while ``down`` is set (the streaming path down)."""

    def __init__(self, store: FeatureStore) -> None:
        self.store, self.down = store, False

    def get_online_features(self, **kwargs: object):
        return self.store.get_online_features(**kwargs)

    def push(self, *args: object, **kwargs: object) -> None:
        if self.down:
            raise ConnectionError("online store unreachable")
        self.store.push(*args, **kwargs)


@pytest.fixture
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[EventLog, FlakyStore, FilterStore]]:
    monkeypatch.setenv("RECO_HOME", str(tmp_path))  # open_store sets it; restored after the test
    settings = load_settings({"RECO_HOME": str(tmp_path)})
    store = open_store(settings)
    apply_definitions(store, settings.paths.features)
    filters = FilterStore(settings.paths.filter_store)
    filters.seed(CATALOGUE)
    with EventLog(tmp_path / "log") as log:
        yield log, FlakyStore(store), filters
    filters.close()


def test_streaming_down_then_back_catches_up_exactly_once(world) -> None:
    log, store, filters = world
    features = OnlineFeatures(store)  # type: ignore[arg-type]
    ingestor = EventIngestor(log, CATALOGUE)
    consumer = session_consumer(log, features, filter_store_categories(filters), batch_size=2)

    store.down = True
    acks = [ingestor.ingest(EventIn(user_id="u1", item_id=i, event_type="click")) for i in ("i1", "i2")]
    ingestor.ingest(EventIn(user_id="u2", item_id="i3", event_type="view"))
    assert all(a.accepted for a in acks), "acknowledged although the feature store is down"
    with pytest.raises(ConnectionError):
        consumer.poll_once()
    assert consumer.committed == 0 and consumer.lag() == 3, "nothing committed while pushes fail"

    store.down = False
    assert consumer.drain() == 3
    u1 = features.session("u1")
    assert u1["session_item_ids"] == ["i1", "i2"] and u1["session_clicks"] == 2
    assert u1["session_last_category"] == "music" and u1["session_log_offset"] == 1
    assert features.session("u2")["session_categories"] == ["games"]

    consumer.replay_from(0)  # at-least-once: the whole log delivered again
    assert consumer.drain() == 3
    assert features.session("u1")["session_clicks"] == 2, "a redelivered event is not counted twice"
    assert features.session("u1")["session_events"] == 2


def test_background_updater_makes_an_event_visible(world) -> None:
    log, store, filters = world
    features = OnlineFeatures(store)  # type: ignore[arg-type]
    consumer = session_consumer(log, features, filter_store_categories(filters), batch_size=100)
    stop = start_in_background(consumer, poll_interval_s=0.01)
    try:
        EventIngestor(log, CATALOGUE).ingest(EventIn(user_id="u9", item_id="i2", event_type="click"))
        for _ in range(500):
            if features.session("u9")["session_clicks"] == 1:
                break
            stop.wait(0.01)
        assert features.session("u9")["session_item_ids"] == ["i2"]
    finally:
        stop.set()


def test_wait_caught_up_blocks_until_the_in_flight_events_are_pushed(world) -> None:
    log, store, filters = world
    features = OnlineFeatures(store)  # type: ignore[arg-type]
    consumer = session_consumer(log, features, filter_store_categories(filters), batch_size=100)
    EventIngestor(log, CATALOGUE).ingest(EventIn(user_id="u5", item_id="i1", event_type="click"))
    store.down = True
    stop = start_in_background(consumer, poll_interval_s=0.01)
    try:
        assert not wait_caught_up(consumer, timeout_s=0.2), "a failing push never counts as caught up"
        store.down = False
        assert wait_caught_up(consumer, timeout_s=10.0)
        assert features.session("u5")["session_clicks"] == 1, "caught up means pushed, not just read"
    finally:
        stop.set()

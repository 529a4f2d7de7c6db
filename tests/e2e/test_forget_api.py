"""Forgetting a user through the real service: their log records, online features and cached
responses go at once, the receipt says so, a repeat is idempotent, and they still get a full page."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
from serving_process import eventually

from bento.ingestion.event_log import EventLogReader
from contracts.settings import load_settings
from feature_repo.store import open_store

pytestmark = pytest.mark.e2e


def _history_user(home: Path) -> str:
    """A user the bundle knows (in the retrieval model and with online batch features)."""
    events = pd.read_parquet(home / "warehouse" / "events.parquet", columns=["user_id"])
    return str(events["user_id"].value_counts().index[-1])


def _session_clicks(user: str) -> object:
    store = open_store(load_settings())
    rows = store.get_online_features(
        features=["user_session:session_clicks"], entity_rows=[{"user_id": user}]
    )
    return rows.to_dict()["session_clicks"][0]


def test_forget_erases_events_features_and_cached_recommendations(
    api: httpx.Client, admin: httpx.Client
) -> None:
    home = Path(os.environ["RECO_HOME"])
    user = _history_user(home)
    page = api.post("/recommend", json={"user_id": user, "page_size": 5})
    assert page.status_code == 200
    items = [i["item_id"] for i in page.json()["items"]]
    now = datetime.now(UTC).isoformat()
    event = {"user_id": user, "item_id": items[0], "event_type": "click", "timestamp": now}
    clicks_before = _session_clicks(user)
    assert api.post("/events", json=event).is_success
    # The session updater drops the user's cached pages when it pushes the click: wait for the push,
    # then until a page is cached (a repeat is a hit), so the forget has one to drop.
    assert eventually(lambda: _session_clicks(user) != clicks_before, timeout_s=30.0), (
        "the click reaches the session features"
    )
    page_request = {"user_id": user, "page_size": 5}
    # Pages are not cached for 5 s after the user's event; each poll is a read of the user's limit.
    cached = lambda: api.post("/recommend", json=page_request).json()["metadata"]["cache_hit"]  # noqa: E731
    assert eventually(cached, timeout_s=30.0, poll_s=1.0)

    reply = admin.post("/users/forget", json={"user_id": user})
    assert reply.status_code == 200, reply.text
    receipt = reply.json()
    assert receipt["new_request"] and receipt["offline_pending"]
    assert receipt["events_erased"] >= 1 and receipt["online_feature_rows_deleted"] > 0
    assert receipt["cached_responses_dropped"] >= 1

    reader = EventLogReader(load_settings().paths.event_log)
    assert not [r for _, r in reader.read(0, reader.end_offset() + 1) if r["user_id"] == user]
    store = open_store(load_settings())
    online = store.get_online_features(
        features=["user_stats:user_clicks_30d", "user_session:session_clicks"],
        entity_rows=[{"user_id": user}],
    ).to_dict()
    assert online["user_clicks_30d"] == [None] and online["session_clicks"] == [None]

    again = admin.post("/users/forget", json={"user_id": user}).json()
    assert again["request_id"] == receipt["request_id"] and not again["new_request"]
    after = api.post("/recommend", json={"user_id": user, "page_size": 5})
    assert after.status_code == 200 and len(after.json()["items"]) == 5


@pytest.mark.parametrize("body", [{}, {"user_id": ""}, {"user_id": "u", "extra": 1}, {"user_id": "x" * 500}])
def test_bad_forget_requests_are_400s(admin: httpx.Client, body: dict) -> None:
    reply = admin.post("/users/forget", json=body)
    assert reply.status_code == 400, reply.text
    assert "user_id" in reply.text or "extra" in reply.text, reply.text

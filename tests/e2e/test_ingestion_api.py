"""Event ingestion over HTTP: batches with per-event outcomes, limits, and rate limiting per key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _item(api: httpx.Client) -> str:
    reply = api.post("/recommend", json={"user_id": "batch-user", "page_size": 3})
    return reply.json()["items"][0]["item_id"]


def test_batch_keeps_valid_events_and_explains_each_rejection(api: httpx.Client) -> None:
    item = _item(api)
    now = datetime.now(UTC)
    good = {"user_id": "batch-user", "item_id": item, "event_type": "click", "timestamp": now.isoformat()}
    events = [
        good,
        {**good, "event_type": "like"},
        {**good, "item_id": "no-such-item"},
        {**good, "event_id": "client-retry"},  # same natural key as `good`: a retry
        {"user_id": "batch-user"},
        {**good, "timestamp": (now + timedelta(seconds=1)).isoformat(), "event_type": "view"},
    ]
    reply = api.post("/events/batch", json={"events": events})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 3)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["accepted", "rejected", "rejected", "duplicate", "rejected", "accepted"]
    reasons = [r["reason"] or "" for r in body["results"]]
    assert "event_type" in reasons[1]
    assert "catalogue" in reasons[2]
    assert "item_id" in reasons[4] and "event_type" in reasons[4]


def test_batch_limits_are_400s(api: httpx.Client) -> None:
    empty = api.post("/events/batch", json={"events": []})
    assert empty.status_code == 400 and "empty" in empty.text
    too_many = [{"user_id": "u", "item_id": "i", "event_type": "click"}] * 201
    big = api.post("/events/batch", json={"events": too_many})
    assert big.status_code == 400 and "limit" in big.text


def test_a_flooding_client_gets_429_with_retry_after(
    api: httpx.Client, connect: Callable[..., httpx.Client]
) -> None:
    """The event limit counts per key: a flood is refused whatever X-Client-Id it sends, and a
    client with its own key is unaffected."""
    item = _item(api)
    batch = [{"user_id": f"flood-{n}", "item_id": item, "event_type": "view"} for n in range(200)]
    flood, calm = connect("flood", "client"), connect("calm", "client")
    first = flood.post("/events/batch", json={"events": batch})
    assert first.status_code == 200
    second = flood.post("/events/batch", json={"events": batch}, headers={"x-client-id": "fresh-name"})
    assert second.status_code == 429, second.text[:300]
    assert int(second.headers["retry-after"]) >= 1
    assert "rate limit" in second.text
    other = calm.post("/events", json={"user_id": "calm", "item_id": item, "event_type": "view"})
    assert other.status_code == 200, "one client's flood must not limit another"

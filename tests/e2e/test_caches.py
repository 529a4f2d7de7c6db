"""Response and item-feature caches: hits are served, a user's own event invalidates theirs, and
hit counts are exported on /metrics."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _recommend(api: httpx.Client, user: str) -> dict:
    reply = api.post("/recommend", json={"user_id": user, "page_size": 6})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_repeat_request_is_a_cache_hit_until_the_user_acts(api: httpx.Client) -> None:
    user = "cache-user"
    first = _recommend(api, user)
    second = _recommend(api, user)
    assert first["metadata"]["cache_hit"] is False
    assert second["metadata"]["cache_hit"] is True
    assert [i["item_id"] for i in second["items"]] == [i["item_id"] for i in first["items"]]
    assert second["metadata"]["request_id"] != first["metadata"]["request_id"]

    clicked = first["items"][0]["item_id"]
    ack = api.post("/events", json={"user_id": user, "item_id": clicked, "event_type": "click"})
    assert ack.status_code == 200
    after = _recommend(api, user)
    assert after["metadata"]["cache_hit"] is False, "the user's own event must invalidate their cache"
    assert clicked not in [i["item_id"] for i in after["items"]]


def test_cache_hit_counts_are_exported(service_url: str, api: httpx.Client) -> None:
    _recommend(api, "metrics-user")
    _recommend(api, "metrics-user")
    metrics = httpx.get(f"{service_url}/metrics", timeout=30).text  # no key: metrics stay open
    lines = [line for line in metrics.splitlines() if line.startswith("reco_cache_lookups")]
    assert any('cache="results"' in line and 'outcome="hit"' in line for line in lines), lines[:5]
    assert any('cache="item_features"' in line for line in lines)

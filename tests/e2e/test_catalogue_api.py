"""Catalogue writes over HTTP: deletions and stock changes hold on the next request; new items are
retrievable at once from their side features."""

from __future__ import annotations

from collections import Counter

import httpx
import pandas as pd
import pytest

from contracts.settings import load_settings
from feature_repo.store import open_store

pytestmark = pytest.mark.e2e


def _recommend(api: httpx.Client, user: str, size: int = 20) -> list[dict]:
    reply = api.post("/recommend", json={"user_id": user, "page_size": size})
    assert reply.status_code == 200, reply.text
    return reply.json()["items"]


def test_deleted_and_out_of_stock_items_vanish_on_the_next_request(
    api: httpx.Client, admin: httpx.Client
) -> None:
    user = "catalogue-user"
    first, second = (item["item_id"] for item in _recommend(api, user)[:2])
    deleted = admin.post("/items/delete", json={"item_id": first})
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    sold_out = admin.post("/items/update", json={"item_id": second, "in_stock": False})
    assert sold_out.status_code == 200, sold_out.text
    for _ in range(3):
        items = {item["item_id"] for item in _recommend(api, user, size=50)}
        assert first not in items and second not in items
    assert api.post("/related", json={"item_id": first}).status_code == 404
    online = open_store(load_settings()).get_online_features(
        features=["item_stats:item_popularity"], entity_rows=[{"item_id": first}]
    )
    assert online.to_dict()["item_popularity"] == [None], "its online features went with it"
    again = admin.post("/items/delete", json={"item_id": first})
    assert again.status_code == 404 and "catalogue" in again.text


def test_a_new_item_is_retrievable_from_its_side_features(api: httpx.Client, admin: httpx.Client) -> None:
    anchor = _recommend(api, "catalogue-new")[0]
    # A well-stocked category, chosen from the catalogue rather than from whatever the ranker put
    # first: on the tiny world a category of a handful of items gives side features little to
    # learn from (see the closing note of session 3).
    catalogue = pd.read_parquet(load_settings().paths.artifacts / "staging" / "catalogue.parquet")
    category = str(catalogue["category"].value_counts().index[0])
    related = api.post("/related", json={"item_id": anchor["item_id"], "page_size": 3}).json()
    title = "fresh " + category + " item"
    new = {
        "item_id": "brand-new-item-1",
        "category": category,
        "title": title,
        "brand": "unknown",
        "price": 25.0,
    }
    created = admin.post("/items", json=new)
    assert created.status_code == 200, created.text
    assert created.json() == {"item_id": "brand-new-item-1", "status": "created", "indexed": True}

    neighbours = api.post("/related", json={"item_id": "brand-new-item-1", "page_size": 10})
    assert neighbours.status_code == 200, neighbours.text
    categories = Counter(item["category"] for item in neighbours.json()["items"])
    share = categories[category] / max(sum(categories.values()), 1)
    base = float((catalogue["category"] == category).mean())
    assert share >= 3 * base, f"side features must place it near its category: {share:.2f} vs base {base:.2f}"
    event = {"user_id": "u-new", "item_id": "brand-new-item-1", "event_type": "click"}
    click = api.post("/events", json=event)
    assert click.status_code == 200, "events on a new item are accepted at once"
    assert related["items"], "sanity: the anchor had neighbours before"


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/items", {"item_id": "x", "category": "c", "title": "t", "price": -1}, 400, "price"),
        ("/items", {"item_id": "x", "title": "t"}, 400, "category"),
        ("/items/update", {"item_id": "no-such-item", "in_stock": False}, 404, "catalogue"),
        ("/items/update", {"item_id": "x", "colour": "red"}, 400, "colour"),
    ],
)
def test_bad_catalogue_writes_are_4xx(
    admin: httpx.Client, path: str, body: dict, status: int, fragment: str
) -> None:
    reply = admin.post(path, json=body)
    assert reply.status_code == status, reply.text
    assert fragment in reply.text

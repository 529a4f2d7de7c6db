"""A user's controls through the real service and a client key: block, not interested, opt out,
see them, and forget them."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e


def _user(rank: int) -> str:
    events = pd.read_parquet(
        Path(os.environ["RECO_HOME"]) / "warehouse" / "events.parquet", columns=["user_id"]
    )
    return str(events["user_id"].value_counts().index[rank])


def _page(api: httpx.Client, user: str) -> dict:
    reply = api.post("/recommend", json={"user_id": user, "page_size": 8})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_user_blocks_marks_and_opts_out_with_a_client_key(api: httpx.Client, admin: httpx.Client) -> None:
    user = _user(8)
    first = _page(api, user)["items"]
    item, category = first[0]["item_id"], first[1]["category"]
    blocked = api.post("/users/block", json={"user_id": user, "item_id": item})
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["blocked_items"] == [item]
    assert api.post("/users/block", json={"user_id": user, "category": category}).status_code == 200
    marked = api.post("/users/not-interested", json={"user_id": user, "item_id": first[2]["item_id"]})
    assert marked.json()["not_interested"] == [first[2]["item_id"]]
    after = _page(api, user)["items"]
    shown = {i["item_id"] for i in after}
    assert not shown & {item, first[2]["item_id"]} and category not in {i["category"] for i in after}

    off = api.post("/users/personalisation", json={"user_id": user, "enabled": False})
    assert off.status_code == 200 and off.json()["personalised"] is False
    meta = _page(api, user)["metadata"]
    assert (meta["fallback_level"], meta["fallback_kind"]) == (4, "personalisation_off")
    view = api.post("/users/controls", json={"user_id": user}).json()
    assert view["blocked_categories"] == [category] and view["personalised"] is False

    receipt = admin.post("/users/forget", json={"user_id": user})
    assert receipt.status_code == 200 and receipt.json()["user_controls_erased"] == 4
    cleared = api.post("/users/controls", json={"user_id": user}).json()
    assert cleared["blocked_items"] == [] and cleared["personalised"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "u1"},  # neither an item nor a category
        {"user_id": "u1", "item_id": "i1", "category": "books"},  # both
        {"user_id": "u1", "item_id": ""},
        {"user_id": "u1", "enabled": "no"},
    ],
)
def test_a_bad_control_is_a_400_with_a_message(api: httpx.Client, body: dict) -> None:
    route = "/users/personalisation" if "enabled" in body else "/users/block"
    reply = api.post(route, json=body)
    assert reply.status_code == 400, reply.text
    assert reply.text


def test_controls_need_a_key(service_url: str) -> None:
    reply = httpx.post(f"{service_url}/users/block", json={"user_id": "u1", "item_id": "i1"}, timeout=30)
    assert reply.status_code == 401

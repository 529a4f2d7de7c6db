"""Keys, roles, read limits and the audit log on the real service: every served operation refuses
a missing or bad key (401) and the wrong role (403) with a message, health and metrics stay open,
a revoked key stops at once, admin calls are audited, reads are limited per key and per user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bento.auth.roles import CLIENT_ROUTES
from bento.privacy.pseudonym import logged_user
from contracts.settings import load_settings

pytestmark = pytest.mark.e2e
USER_BURST = 30  # tests/e2e/conftest.py's per-user read burst


@pytest.fixture(scope="module")
def operations(service_url: str) -> list[str]:
    """Every POST route the running service publishes (so a new endpoint is covered unasked)."""
    schema = httpx.get(f"{service_url}/docs.json", timeout=60).json()  # docs stay open
    return sorted(path for path, ops in schema["paths"].items() if "post" in ops)


def _error(reply: httpx.Response) -> str:
    message = reply.json()["error"]
    assert isinstance(message, str) and message
    return message


def test_every_operation_wants_a_key_and_the_right_role(
    service_url: str, operations: list[str], api: httpx.Client, admin: httpx.Client
) -> None:
    assert {"/recommend", "/related", "/events", "/items", "/users/forget"} <= set(operations)
    for path in operations:
        bare = httpx.post(f"{service_url}{path}", json={}, timeout=60)
        assert bare.status_code == 401, (path, bare.text)
        assert "API key is required" in _error(bare) and "Bearer" in bare.headers["www-authenticate"]
        bad = httpx.post(
            f"{service_url}{path}", json={}, headers={"authorization": "Bearer nope"}, timeout=60
        )
        assert bad.status_code == 401 and "malformed" in _error(bad), path
        as_client = api.post(path, json={})
        if path in CLIENT_ROUTES:
            assert as_client.status_code == 400, (path, as_client.text)  # through to validation
        else:
            assert as_client.status_code == 403, (path, as_client.text)
            assert "needs admin" in _error(as_client)
        assert admin.post(path, json={}).status_code == 400, path  # admin reaches every route


@pytest.mark.parametrize("path", ["/readyz", "/livez", "/healthz", "/metrics", "/docs.json"])
def test_health_metrics_and_docs_stay_open(service_url: str, path: str) -> None:
    assert httpx.get(f"{service_url}{path}", timeout=60).status_code == 200


def test_a_revoked_key_is_refused_on_its_next_request(connect: Callable[..., httpx.Client]) -> None:
    client = connect("soon-revoked", "client")
    assert client.post("/related", json={"item_id": "no-such-item"}).status_code == 404
    key_id = client.headers["authorization"].split("_")[1]
    revoke = [sys.executable, "-m", "bento.auth.keys", "revoke", key_id]
    subprocess.run(revoke, check=True, capture_output=True, timeout=60)
    reply = client.post("/related", json={"item_id": "no-such-item"})
    assert reply.status_code == 401 and "revoked" in _error(reply)


def _audit_lines() -> list[dict]:
    return [json.loads(line) for line in load_settings().paths.audit_log.read_text().splitlines()]


def test_admin_calls_are_audited_with_who_what_before_after_and_outcome(admin: httpx.Client) -> None:
    item = {"item_id": "audited-item", "category": "audit", "title": "an audited item", "price": 3.0}
    assert admin.post("/items", json=item).status_code == 200
    assert admin.post("/items/update", json={"item_id": "audited-item", "price": 4.5}).status_code == 200
    assert admin.post("/items/delete", json={"item_id": "audited-item"}).status_code == 200
    lines = [
        line
        for line in _audit_lines()
        if isinstance(params := line["what"]["parameters"], dict)  # hostile bodies may be any JSON
        and params.get("item_id") == item["item_id"]
    ]
    created, updated, deleted = lines[-3:]
    key_id = admin.headers["authorization"].split("_")[1]
    assert {line["who"]["key_id"] for line in (created, updated, deleted)} == {key_id}
    assert [line["what"]["endpoint"] for line in (created, updated, deleted)] == [
        "/items",
        "/items/update",
        "/items/delete",
    ]
    assert created["before"] == {"item": None} and created["after"]["item"]["price"] == 3.0
    assert updated["before"]["item"]["price"] == 3.0 and updated["after"]["item"]["price"] == 4.5
    assert updated["what"]["parameters"] == {"item_id": "audited-item", "price": 4.5}
    assert deleted["before"]["item"]["title"] == "an audited item" and deleted["after"] == {"item": None}
    assert all(line["outcome"]["result"] == "ok" for line in (created, updated, deleted))
    assert created["at"] <= updated["at"] <= deleted["at"]


def test_a_forget_is_audited_without_naming_the_user(api: httpx.Client, admin: httpx.Client) -> None:
    user = "audit-forget-user-7"
    assert api.post("/recommend", json={"user_id": user, "page_size": 2}).status_code == 200
    denied = api.post("/users/forget", json={"user_id": user})
    assert denied.status_code == 403
    assert admin.post("/users/forget", json={"user_id": user}).status_code == 200
    text = load_settings().paths.audit_log.read_text()
    assert user not in text, "the audit log keeps a keyed hash, never the user id"
    mine = [line for line in _audit_lines() if line["what"]["parameters"] == {"user_id": logged_user(user)}]
    assert [line["outcome"]["result"] for line in mine] == ["denied", "ok"]
    assert mine[1]["outcome"]["response"]["user_id"] == logged_user(user)


def test_a_read_burst_over_the_user_limit_is_429_and_others_are_unaffected(
    api: httpx.Client, connect: Callable[..., httpx.Client]
) -> None:
    user, probe = "scraped-user", {"item_id": "no-such-item"}  # cheap reads: a 404 after the guard
    for _ in range(USER_BURST):
        assert api.post("/related", json={**probe, "user_id": user}).status_code == 404
    over = api.post("/recommend", json={"user_id": user})
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert "user_id" in _error(over)
    other_client = connect("another-app", "client")
    assert other_client.post("/related", json={**probe, "user_id": user}).status_code == 429, "per user"
    assert api.post("/related", json={**probe, "user_id": "unscraped-user"}).status_code == 404
    log = Path(os.environ["RECO_HOME"], "serve.log").read_text()
    assert user not in log and logged_user(user) in log, "the service logs the user's hash, never the id"


def test_a_read_burst_over_the_client_limit_is_429_and_others_are_unaffected(
    connect: Callable[..., httpx.Client],
) -> None:
    greedy = connect("greedy", "client", "--reads-per-second", "0.001", "--read-burst", "3")
    calm = connect("calm-reader", "client")
    codes = [
        greedy.post("/related", json={"item_id": "no-such-item", "user_id": f"g{n}"}).status_code
        for n in range(4)
    ]
    assert codes == [404, 404, 404, 429]
    over = greedy.post("/recommend", json={"user_id": "g9"})
    assert over.status_code == 429 and "client" in _error(over) and int(over.headers["retry-after"]) >= 1
    assert calm.post("/recommend", json={"user_id": "g9", "page_size": 2}).status_code == 200

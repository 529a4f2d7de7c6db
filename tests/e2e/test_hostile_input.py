"""Hostile input against a real `bentoml serve`: every kind of bad request is a 4xx with a message,
a bounded schemathesis run over the served OpenAPI (with an admin key, so every operation is reached)
finds no 5xx, and no acknowledged event is lost. Keys and roles are in `test_auth_api.py`."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from bento.ingestion.event_log import EventLogReader
from contracts.settings import load_settings

pytestmark = pytest.mark.e2e

MIB = 1 << 20
# Per operation, valid and invalid data mixed: 12 operations in about 16 s on 2 busy cores.
FUZZ_EXAMPLES = 25


@pytest.fixture(scope="module")
def hostile(connect: Callable[..., httpx.Client]) -> httpx.Client:
    """An admin key of its own (its own rate-limit buckets: it never starves the other tests)."""
    return connect("hostile", "admin")


def _post(
    client: httpx.Client, path: str, content: bytes | str, content_type: str | None = "application/json"
) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return client.post(path, content=content, headers=headers)


def _error(reply: httpx.Response) -> str:
    """The reply's text, once it is known to be JSON with an error message (the guard's {"error"},
    BentoML's [{"error"}] or, for validation, {"error", "detail"} where the detail names the field)."""
    body = reply.json()
    assert (body[0] if isinstance(body, list) else body)["error"], reply.text
    return reply.text


def _a_known_item(client: httpx.Client) -> str:
    page = client.post("/recommend", json={"user_id": "hostile-user", "page_size": 3})
    assert page.status_code == 200, page.text
    return page.json()["items"][0]["item_id"]


@pytest.mark.parametrize(
    ("content_type", "status", "fragment"),
    [
        (None, 415, "Content-Type is missing"),
        ("text/plain", 415, "not supported"),
        ("application/x-www-form-urlencoded", 415, "not supported"),
        ("multipart/form-data; boundary=x", 415, "not supported"),
        ("application/vnd.bentoml+pickle", 415, "not supported"),
        ("application/json; charset=latin-1", 415, "charset"),
        ("nonsense", 415, "not supported"),
        ("application/json; charset=utf-8", 200, ""),
    ],
)
def test_content_types_other_than_json_are_415(
    hostile: httpx.Client, content_type: str | None, status: int, fragment: str
) -> None:
    reply = _post(hostile, "/recommend", json.dumps({"user_id": "u-ct", "page_size": 2}), content_type)
    assert reply.status_code == status, reply.text
    if status != 200:
        assert fragment in _error(reply)


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/recommend", b'{"user_id": "u1", ', "json_invalid"),
        ("/recommend", b"\xff\xfe not utf-8", "json_invalid"),
        ("/events/batch", b'{"events": [}', "json_invalid"),
        ("/recommend", b"[1, 2, 3]", "RecommendRequest"),
        ("/recommend", b'"just a string"', "RecommendRequest"),
    ],
)
def test_invalid_json_is_400(hostile: httpx.Client, path: str, body: bytes, fragment: str) -> None:
    reply = _post(hostile, path, body)
    assert reply.status_code == 400, reply.text
    assert fragment in _error(reply)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/recommend", {"user_id": 42}, "user_id"),
        ("/recommend", {"user_id": "u1", "page_size": "many"}, "page_size"),
        ("/recommend", {"user_id": "u1", "context": {"hour_of_day": [1]}}, "hour_of_day"),
        ("/related", {"item_id": {"id": "x"}}, "item_id"),
        ("/events", {"user_id": "u1", "item_id": "i1", "event_type": "click", "value": "lots"}, "value"),
        ("/events", {"user_id": "u1", "item_id": "i1", "event_type": 3}, "event_type"),
        ("/events/batch", {"events": "not a list"}, "events"),
        ("/items", {"item_id": "x", "category": "c", "title": "t", "in_stock": "maybe"}, "in_stock"),
        ("/items/update", {"item_id": "x", "price": True}, "price"),
        ("/users/forget", {"user_id": ["u1"]}, "user_id"),
    ],
)
def test_wrong_types_are_400_naming_the_field(
    hostile: httpx.Client, path: str, body: dict, field: str
) -> None:
    reply = hostile.post(path, json=body)
    assert reply.status_code == 400, reply.text
    assert field in _error(reply)


def test_an_update_that_changes_nothing_is_400(hostile: httpx.Client) -> None:
    item = _a_known_item(hostile)
    for body in ({"item_id": item}, {"item_id": item, "price": None, "title": None}):
        reply = hostile.post("/items/update", json=body)
        assert reply.status_code == 400, reply.text
        assert "nothing to change" in _error(reply)
    still = hostile.post("/related", json={"item_id": item})
    assert still.status_code == 200, "the item is untouched"


@pytest.mark.parametrize("path", ["/recommend", "/events", "/events/batch", "/items"])
def test_oversized_bodies_are_413(hostile: httpx.Client, path: str) -> None:
    padding = "x" * (MIB + 1)
    reply = _post(hostile, path, json.dumps({"user_id": "u1", "padding": padding}))
    assert reply.status_code == 413, reply.text[:300]
    assert "exceeds the limit of 1048576 bytes" in _error(reply)


def test_an_oversized_body_without_content_length_is_413(hostile: httpx.Client) -> None:
    """Chunked uploads carry no length: the guard counts what it reads."""

    def chunks():
        yield b'{"events": ['
        for _ in range(40):
            yield (
                b'{"user_id": "u", "item_id": "i", "event_type": "view", "session_id": "'
                + b"s" * 32_000
                + b'"},'
            )
        yield b"{}]}"

    reply = hostile.post("/events/batch", content=chunks(), headers={"content-type": "application/json"})
    assert reply.status_code == 413, reply.text[:300]


def test_a_full_batch_fits_under_the_body_limit(
    hostile: httpx.Client, connect: Callable[..., httpx.Client]
) -> None:
    """The limit leaves room for the largest batch the service accepts (200 in the test config)."""
    item = _a_known_item(hostile)
    event = {"item_id": item, "event_type": "view", "session_id": "s" * 100, "value": 12.5}
    batch = [{**event, "user_id": f"hostile-batch-{n}"} for n in range(200)]
    reply = connect("big-batch", "client").post("/events/batch", json={"events": batch})
    assert reply.status_code == 200, reply.text[:300]
    assert reply.json()["accepted"] == 200


@pytest.mark.parametrize("depth", [100, 250, 10_000])
def test_deeply_nested_json_is_400(hostile: httpx.Client, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for path, body in [
        ("/recommend", '{"user_id": "u1", "context": ' + nested + "}"),
        ("/events/batch", '{"events": ' + nested + "}"),
    ]:
        reply = _post(hostile, path, body)
        if path == "/events/batch" and depth < 200:
            # Within the parser's depth, a batch of nested lists is read: each entry is rejected.
            assert reply.status_code in (200, 400), reply.text[:300]
            continue
        assert reply.status_code == 400, reply.text[:300]
        assert _error(reply)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"user_id": "\\ud800"}', "json_invalid"),  # a lone surrogate
        ('{"user_id": "u\\u00001"}', "user_id"),  # a NUL byte in an id
        ('{"user_id": "u\\n1"}', "user_id"),  # a control character
        ('{"user_id": "tab\\tinside"}', "user_id"),
        ('{"user_id": "\\u202eevil"}', "user_id"),  # right-to-left override
        ('{"user_id": "' + "u" * 100_000 + '"}', "user_id"),  # very long
        ('{"user_id": "u1", "context": {"session_id": "\\udfff\\ud800"}}', "json_invalid"),
    ],
)
def test_odd_unicode_is_400(hostile: httpx.Client, body: str, fragment: str) -> None:
    reply = _post(hostile, "/recommend", body.encode("utf-8"))
    assert reply.status_code == 400, reply.text[:300]
    assert fragment in _error(reply)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/events", {"user_id": "u\u00001", "item_id": "i1", "event_type": "click"}, "user_id"),
        ("/items", {"item_id": "x", "category": "c\u0000", "title": "t"}, "category"),
        ("/items", {"item_id": "x", "category": "c", "title": "t" * 5_000}, "title"),
        ("/items", {"item_id": "x", "category": "c", "title": "t", "price": 1e300}, "price"),
        (
            "/items",
            {"item_id": "x", "category": "c", "title": "t", "created_at": "9999-12-31T00:00:00Z"},
            "created_at",
        ),
        (
            "/events",
            {
                "user_id": "u1",
                "item_id": "i1",
                "event_type": "click",
                "timestamp": "9999-12-31T23:59:59-23:59",
            },
            "timestamp",
        ),
        (
            "/events",
            {"user_id": "u1", "item_id": "i1", "event_type": "click", "timestamp": "0001-01-01T00:00:00Z"},
            "timestamp",
        ),
        ("/users/forget", {"user_id": "\u0000"}, "user_id"),
        ("/items/update", {"item_id": "x", "policy_flag": "\u0007"}, "policy_flag"),
    ],
)
def test_odd_values_are_400_naming_the_field(
    hostile: httpx.Client, path: str, body: dict, field: str
) -> None:
    reply = hostile.post(path, json=body)
    assert reply.status_code == 400, reply.text[:300]
    assert field in _error(reply)


def test_bad_input_never_loses_an_acknowledged_event(hostile: httpx.Client) -> None:
    item = _a_known_item(hostile)
    event = {"event_id": "hostile-kept", "user_id": "hostile-kept", "item_id": item, "event_type": "click"}
    ack = hostile.post("/events", json=event)
    assert ack.status_code == 200, ack.text
    offset = ack.json()["log_offset"]
    for path, content, content_type in [
        ("/events", b"x" * (MIB + 10), "application/json"),
        ("/events", b'{"event_id": "hostile-kept", ', "application/json"),
        ("/events", json.dumps(event), "text/plain"),
        ("/events/batch", '{"events": ' + "[" * 5000 + "]" * 5000 + "}", "application/json"),
        ("/events", json.dumps({**event, "user_id": "\u0000"}), "application/json"),
    ]:
        assert 400 <= _post(hostile, path, content, content_type).status_code < 500
    reader = EventLogReader(load_settings().paths.event_log)
    kept = [r for _, r in reader.read(offset, offset + 1)]
    assert [r["event_id"] for r in kept] == ["hostile-kept"]
    again = hostile.post("/events", json=event)
    assert again.status_code == 200 and again.json()["duplicate"], "the service still knows it"


@pytest.fixture(scope="module")
def fuzz_key(mint_key: Callable[..., str]) -> str:
    return mint_key("schemathesis", "admin")


@pytest.fixture(scope="module")
def served_api(service_url: str) -> schemathesis.BaseSchema:
    """The OpenAPI document the running service publishes, as schemathesis reads it."""
    return schemathesis.openapi.from_url(f"{service_url}/docs.json", timeout=60)


fuzzed = schemathesis.pytest.from_fixture("served_api")


@fuzzed.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,  # the same examples on every run: a failure reproduces, a pass stays a pass
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the run stays bounded when it fails
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error(case: schemathesis.Case, fuzz_key: str) -> None:
    """Valid and invalid data for every operation in the served schema; only a 5xx fails."""
    headers = {"authorization": f"Bearer {fuzz_key}"}
    case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=60)

"""The HTTP guard in front of a stand-in ASGI app: what it refuses (413, 415, 400) and that what it
lets through reaches the app byte for byte."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bento.http_guard import HttpGuard, HttpLimits, check_headers, load_http_limits
from bento.ingestion.settings import load_ingestion_config

LIMIT = 1_000


async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


APP = Starlette(
    routes=[Route("/echo", echo, methods=["GET", "POST"])],
    middleware=[Middleware(HttpGuard, limits=HttpLimits(max_body_bytes=LIMIT, drain_bytes=10_000))],
)


def _call(method: str, content: bytes | AsyncIterator[bytes] | None = None, **headers: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=APP)
        async with httpx.AsyncClient(transport=transport, base_url="http://guard") as client:
            return await client.request(method, "/echo", content=content, headers=headers)

    return asyncio.run(call())


JSON = {"content-type": "application/json"}


def test_a_json_body_within_the_limit_reaches_the_app_unchanged() -> None:
    body = json.dumps({"user_id": "u1", "padding": "é" * 300}, ensure_ascii=False).encode()
    assert len(body) <= LIMIT
    reply = _call("POST", body, **JSON)
    assert reply.status_code == 200 and reply.content == body


def test_a_body_at_the_limit_passes_and_one_byte_more_is_413() -> None:
    assert _call("POST", b"x" * LIMIT, **JSON).status_code == 200
    reply = _call("POST", b"x" * (LIMIT + 1), **JSON)
    assert reply.status_code == 413
    assert reply.json() == {"error": f"request body exceeds the limit of {LIMIT} bytes"}


def test_a_chunked_body_is_counted_as_it_arrives() -> None:
    """No Content-Length to trust: the guard stops reading once the limit is passed."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    async def small_chunks() -> AsyncIterator[bytes]:
        yield b'{"a":'
        yield b" 1}"

    reply = _call("POST", chunks(), **JSON)
    assert reply.status_code == 413
    small = _call("POST", small_chunks(), **JSON)
    assert small.status_code == 200 and small.content == b'{"a": 1}'


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=b", "application/vnd.bentoml+pickle", "json"],
)
def test_other_content_types_are_415(content_type: str) -> None:
    reply = _call("POST", b"{}", **{"content-type": content_type})
    assert reply.status_code == 415
    assert "send application/json" in reply.json()["error"]


def test_a_missing_content_type_is_415() -> None:
    reply = _call("POST", b"{}")
    assert reply.status_code == 415 and "missing" in reply.json()["error"]


def test_gets_pass_untouched() -> None:
    assert _call("GET").status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"content-type": "application/json"}, None),
        ({"content-type": "Application/JSON; charset=UTF-8"}, None),
        ({"content-type": 'application/json; charset="utf-8"'}, None),
        ({"content-type": "application/json; charset=latin-1"}, 415),
        ({"content-type": "application/json", "content-length": "12abc"}, 400),
        ({"content-type": "application/json", "content-length": "\u00b2"}, 400),
        ({"content-type": "application/json", "content-length": str(LIMIT + 1)}, 413),
        ({"content-type": "text/plain", "content-length": str(LIMIT + 1)}, 413),
        ({}, 415),
        ({"content-type": "  "}, 415),
    ],
)
def test_header_checks(headers: dict[str, str], status: int | None) -> None:
    rejection = check_headers(Headers(headers), LIMIT)
    assert (rejection.status if rejection else None) == status
    if rejection is not None:
        assert rejection.message


def test_the_configured_limit_fits_the_largest_batch_the_service_accepts() -> None:
    """1 MiB, and a full /events/batch of long but valid events stays under it."""
    limits = load_http_limits()
    assert limits.max_body_bytes == 1 << 20
    event = {
        "event_id": "e" * 36,
        "user_id": "u0017188",
        "item_id": "i0049999",
        "event_type": "purchase",
        "timestamp": "2026-01-01T12:00:00.000000+00:00",
        "surface": "related_items",
        "position": 99,
        "session_id": "s" * 36,
        "device": "desktop",
        "value": 1234.5,
    }
    batch = json.dumps({"events": [event] * load_ingestion_config().max_batch_size}).encode()
    assert len(batch) < limits.max_body_bytes


def _scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/recommend",
        "raw_path": b"/recommend",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3000),
    }


@pytest.mark.parametrize("length", [None, str(LIMIT + 1).encode()])
def test_the_guard_never_reads_past_the_end_of_a_body(length: bytes | None) -> None:
    """A receive after the last chunk waits until the client leaves: calling it would hang the
    request. Here the whole oversized body arrives in one final message."""
    messages = [{"type": "http.request", "body": b"z" * (LIMIT + 1), "more_body": False}]

    async def receive() -> dict:
        assert messages, "receive was called after the body had ended"
        return messages.pop(0)

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def unreachable(scope: dict, receive: object, send: object) -> None:
        raise AssertionError("an oversized body must not reach the app")

    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", length))
    guard = HttpGuard(unreachable, limits=HttpLimits(max_body_bytes=LIMIT))  # type: ignore[arg-type]
    asyncio.run(guard(_scope(headers), receive, send))  # type: ignore[arg-type]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert not messages, "the body was read off the connection (drained) before the answer"

"""The access guard in front of a stand-in ASGI app, with a real key store, filter store and audit
log: who gets 401, 403 and 429 (each with a message), what stays open, and what the audit log keeps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from bento.auth.guard import AccessGuard
from bento.auth.settings import AuthConfig
from bento.auth.store import KeyStore
from bento.catalogue.filter_store import FilterStore
from bento.ingestion.settings import Bucket, ReadRateLimit
from bento.privacy.pseudonym import logged_user
from contracts.settings import PlatformPaths

# Refill so slow that no test run could earn a token back: limits are counts, never timings.
SLOW = 1e-6
LIMITS = ReadRateLimit(per_client=Bucket(per_second=SLOW, burst=6), per_user=Bucket(per_second=SLOW, burst=3))
ITEM = {"item_id": "i1", "category": "c", "brand": "b", "title": "t", "price": 1.0,
        "created_at": "2026-01-01T00:00:00+00:00", "in_stock": 1, "sponsored": 0}  # fmt: skip


class NotAnObject(Exception):
    pass


async def _object(request: Request) -> dict:
    """The body as a JSON object, as BentoML's validation would insist (a 400 otherwise)."""
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        raise NotAnObject from None
    if not isinstance(body, dict):
        raise NotAnObject
    return body


async def _bad_request(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": "not a JSON object"}, status_code=400)


class World:
    """A stand-in service behind the guard; its catalogue writes go to a real filter store."""

    def __init__(self, home: Path, required: bool = True) -> None:
        self.paths = PlatformPaths(home=home)
        self.filters = FilterStore(self.paths.filter_store)
        self.filters.upsert(dict(ITEM))
        self.keys = KeyStore(self.paths.api_keys)
        routes = [Route(path, self._echo, methods=["POST"]) for path in ("/recommend", "/related", "/events")]
        routes += [
            Route("/items/delete", self._delete, methods=["POST"]),
            Route("/users/forget", self._forget, methods=["POST"]),
            Route("/readyz", lambda _: PlainTextResponse("ok"), methods=["GET"]),
            Route("/metrics", lambda _: PlainTextResponse("reco_x 1"), methods=["GET"]),
        ]
        guard = Middleware(
            AccessGuard, config=AuthConfig(required=required), read_limits=LIMITS, paths=self.paths
        )
        self.app = Starlette(
            routes=routes, middleware=[guard], exception_handlers={NotAnObject: _bad_request}
        )

    async def _echo(self, request: Request) -> JSONResponse:
        return JSONResponse({"body": await _object(request), "client": request.headers.get("x-client-id")})

    async def _delete(self, request: Request) -> JSONResponse:
        item_id = (await _object(request))["item_id"]
        if not self.filters.delete(item_id):
            return JSONResponse({"error": f"item_id {item_id!r} is not in the catalogue"}, status_code=404)
        return JSONResponse({"item_id": item_id, "status": "deleted"})

    async def _forget(self, request: Request) -> JSONResponse:
        return JSONResponse({"user_id": (await _object(request))["user_id"], "events_erased": 3})

    def key(self, role: str, **limits: float) -> str:
        return self.keys.create(f"test-{role}", role, **limits)[1]  # type: ignore[arg-type]

    def call(
        self, path: str, body: dict | None = None, key: str | None = None, **headers: str
    ) -> httpx.Response:
        if key is not None:
            headers["authorization"] = f"Bearer {key}"

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("10.0.0.9", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://guard") as client:
                if body is None:
                    return await client.get(path, headers=headers)
                return await client.post(path, json=body, headers=headers)

        return asyncio.run(go())

    def audit(self) -> list[dict]:
        path = self.paths.audit_log
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.mark.parametrize("path", ["/recommend", "/events", "/items/delete", "/users/forget", "/anything/new"])
def test_no_key_or_a_bad_key_is_401_with_a_message(world: World, path: str) -> None:
    for headers in ({}, {"authorization": "Basic dXNlcjpwdw=="}, {"authorization": "Bearer reco_bogus"}):
        reply = world.call(path, {"user_id": "u1", "item_id": "i1"}, **headers)
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"] and reply.headers["www-authenticate"].startswith("Bearer")
    revoked = world.key("admin")
    world.keys.revoke(revoked.split("_")[1])
    reply = world.call(path, {"user_id": "u1"}, key=revoked)
    assert reply.status_code == 401 and "revoked" in reply.json()["error"]
    assert world.filters.get("i1") is not None, "nothing ran"


@pytest.mark.parametrize("path", ["/items/delete", "/users/forget", "/anything/new", "/items/delete/"])
def test_a_client_key_on_an_admin_route_is_403_and_audited(world: World, path: str) -> None:
    reply = world.call(path, {"item_id": "i1", "user_id": "u1"}, key=world.key("client"))
    assert reply.status_code == 403, reply.text
    assert "needs admin" in reply.json()["error"]
    assert world.filters.get("i1") is not None
    (line,) = world.audit()
    assert line["outcome"]["result"] == "denied" and line["who"]["role"] == "client"
    assert line["what"]["parameters"]["user_id"] == logged_user("u1")


def test_health_and_metrics_stay_open(world: World) -> None:
    assert world.call("/readyz").status_code == 200
    assert world.call("/metrics").text == "reco_x 1"


def test_each_role_reaches_its_routes_and_admin_reaches_all(world: World) -> None:
    client, admin = world.key("client"), world.key("admin")
    for key in (client, admin):
        assert world.call("/recommend", {"user_id": f"u-{key[-4:]}"}, key=key).status_code == 200
        assert world.call("/events", {"user_id": "u1"}, key=key).status_code == 200
    assert world.call("/users/forget", {"user_id": "u1"}, key=admin).status_code == 200


def test_the_key_id_replaces_any_client_header(world: World) -> None:
    key = world.key("client")
    reply = world.call("/events", {"user_id": "u1"}, key=key, **{"x-client-id": "someone-else"})
    assert reply.json()["client"] == key.split("_")[1], "a client cannot pick its own rate-limit bucket"


def test_an_admin_call_is_audited_with_before_after_and_outcome(world: World) -> None:
    admin = world.key("admin")
    assert world.call("/items/delete", {"item_id": "i1"}, key=admin).status_code == 200
    assert world.call("/items/delete", {"item_id": "i1"}, key=admin).status_code == 404
    deleted, missing = world.audit()
    assert deleted["who"] == {"key_id": admin.split("_")[1], "name": "test-admin", "role": "admin"}
    assert deleted["what"] == {"method": "POST", "endpoint": "/items/delete", "parameters": {"item_id": "i1"}}
    assert deleted["before"]["item"]["title"] == "t" and deleted["after"] == {"item": None}
    assert deleted["outcome"]["result"] == "ok" and deleted["outcome"]["status"] == 200
    assert (
        missing["outcome"]["result"] == "refused" and "catalogue" in missing["outcome"]["response"]["error"]
    )
    assert deleted["at"] < missing["at"]


def test_the_audit_log_names_no_user(world: World) -> None:
    admin = world.key("admin")
    reply = world.call("/users/forget", {"user_id": "alice@example.com"}, key=admin)
    assert reply.json()["user_id"] == "alice@example.com", "the caller's answer is untouched"
    text = world.paths.audit_log.read_text()
    assert "alice" not in text
    (line,) = world.audit()
    assert line["what"]["parameters"]["user_id"] == logged_user("alice@example.com")
    assert line["outcome"]["response"] == {"user_id": logged_user("alice@example.com"), "events_erased": 3}


def test_the_audit_log_is_appended_never_rewritten(world: World, tmp_path: Path) -> None:
    admin = world.key("admin")
    world.call("/users/forget", {"user_id": "u1"}, key=admin)
    first = world.paths.audit_log.read_text()
    restarted = World(tmp_path)  # a new worker on the same home
    restarted.call("/users/forget", {"user_id": "u2"}, key=admin)
    text = world.paths.audit_log.read_text()
    assert text.startswith(first) and len(text.splitlines()) == 2


def test_a_read_burst_over_the_user_limit_is_429_and_others_are_unaffected(world: World) -> None:
    web, app = world.key("client"), world.key("client")
    for _ in range(3):
        assert world.call("/recommend", {"user_id": "hot"}, key=web).status_code == 200
    over = world.call("/recommend", {"user_id": "hot"}, key=web)
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    assert "user_id" in over.json()["error"]
    assert world.call("/related", {"item_id": "i1", "user_id": "hot"}, key=app).status_code == 429, (
        "the user limit holds across clients"
    )
    assert world.call("/recommend", {"user_id": " hot "}, key=app).status_code == 429, "the same user"
    assert world.call("/recommend", {"user_id": "calm"}, key=web).status_code == 200
    assert world.call("/related", {"item_id": "i1"}, key=web).status_code == 200, "no user: client limit only"


def test_a_read_burst_over_the_client_limit_is_429_and_other_clients_are_unaffected(world: World) -> None:
    greedy, other = world.key("client", reads_per_second=SLOW, read_burst=2), world.key("client")
    assert [world.call("/recommend", {"user_id": f"g{n}"}, key=greedy).status_code for n in range(3)] == [
        200,
        200,
        429,
    ]
    over = world.call("/related", {"item_id": "i1"}, key=greedy)
    assert over.status_code == 429 and "client" in over.json()["error"] and over.headers["retry-after"]
    assert [world.call("/recommend", {"user_id": f"o{n}"}, key=other).status_code for n in range(6)] == [
        200
    ] * 6
    assert world.call("/recommend", {"user_id": "o6"}, key=other).status_code == 429, "the configured limit"
    assert world.call("/events", {"user_id": "g9"}, key=greedy).status_code == 200, "events are not reads"


def test_with_auth_off_anyone_may_call_but_a_bad_key_is_still_refused(tmp_path: Path) -> None:
    world = World(tmp_path, required=False)
    assert world.call("/recommend", {"user_id": "u1"}).status_code == 200
    assert world.call("/users/forget", {"user_id": "u1"}).status_code == 200
    assert world.audit()[0]["who"]["name"] == "anonymous"
    assert world.call("/recommend", {"user_id": "u1"}, key="reco_wrong").status_code == 401
    assert world.call("/users/forget", {"user_id": "u1"}, key=world.key("client")).status_code == 403
    anonymous = [world.call("/recommend", {"user_id": f"a{n}"}, **{"x-client-id": "c1"}) for n in range(7)]
    assert anonymous[-1].status_code == 429, "without keys the client header names the bucket"
    assert world.call("/recommend", {"user_id": "a9"}, **{"x-client-id": "c2"}).status_code == 200


def test_a_huge_user_id_is_not_a_bucket(world: World) -> None:
    key = world.key("client")
    for _ in range(4):  # over the user burst: were it counted, the fourth would be a 429
        assert world.call("/recommend", {"user_id": "x" * 10_000}, key=key).status_code == 200


@pytest.mark.parametrize("path", ["/recommend", "/users/forget"])
def test_bodies_the_parser_cannot_read_are_left_to_the_service(world: World, path: str) -> None:
    """Deep, broken or non-object JSON is the service's to refuse (400): the guard never fails on it."""
    headers = {"authorization": f"Bearer {world.key('admin')}", "content-type": "application/json"}
    bodies = [b"[" * 50_000 + b"]" * 50_000, b'{"user_id": ', b"[1, 2]", b"\xff\xfe"]

    async def go(content: bytes) -> httpx.Response:
        transport = httpx.ASGITransport(app=world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://guard") as client:
            return await client.post(path, content=content, headers=headers)

    for body in bodies:
        reply = asyncio.run(go(body))
        assert reply.status_code == 400 and reply.json() == {"error": "not a JSON object"}, body[:20]
    if path == "/users/forget":
        recorded = [line["what"]["parameters"] for line in world.audit()]
        assert recorded == [
            {"unparsed_bytes": 100_000},
            {"unparsed_bytes": 12},
            [1, 2],
            {"unparsed_bytes": 2},
        ]

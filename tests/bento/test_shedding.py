"""Overload control: load is counted per worker, pages shrink first, then surfaces are refused by
priority (notifications, then related items, the home feed last)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bento.shedding import LOAD_STATE, LoadCounter, admission, refusal, request_load
from contracts.funnel_config import FUNNEL_FILE, load_funnel_config


def test_pages_shrink_before_any_surface_is_refused_and_the_home_feed_goes_last() -> None:
    config = load_funnel_config(FUNNEL_FILE)
    load = config.degradation.load

    def served(surface: str, at: float) -> tuple[bool, bool]:
        decision = admission(at, config.surface(surface).shed_at, load)
        return decision.admitted, decision.reduced

    assert [served(s, 0.25) for s in ("home_feed", "related_items", "notifications")] == [(True, False)] * 3
    assert served("notifications", 0.55) == (True, True), "fewer candidates before any refusal"
    assert served("notifications", 0.7) == (False, True)
    assert served("related_items", 0.7) == (True, True)
    assert served("related_items", 0.9) == (False, True)
    assert served("home_feed", 0.9) == (True, True) and served("home_feed", 1.0) == (True, True)
    assert served("home_feed", 1.1) == (False, True)


def test_a_refusal_is_a_503_that_says_when_to_come_back() -> None:
    load = load_funnel_config(FUNNEL_FILE).degradation.load
    response = refusal("notifications", admission(0.75, 0.6, load), load)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(load.retry_after_s)
    assert b"notifications" in response.body and b"75%" in response.body


def test_the_counter_sees_every_page_request_in_flight_and_nothing_else() -> None:
    release = asyncio.Event()
    seen: list[float] = []

    async def page(request: Request) -> JSONResponse:
        seen.append(request_load(request.scope))
        await release.wait()
        return JSONResponse({"load": request_load(request.scope)})

    async def other(request: Request) -> JSONResponse:
        return JSONResponse({"load": request.scope.get("state", {}).get(LOAD_STATE)})

    app = Starlette(
        routes=[Route("/recommend", page, methods=["POST"]), Route("/events", other, methods=["POST"])]
    )
    counter = LoadCounter(app, capacity=4)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=counter)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            pages = [asyncio.create_task(client.post("/recommend", json={})) for _ in range(3)]
            while len(seen) < 3:
                await asyncio.sleep(0.01)
            assert counter.in_flight == 3
            event = await client.post("/events", json={})
            assert event.json() == {"load": None}, "events are never counted or shed"
            release.set()
            answers = [(await task).json()["load"] for task in pages]
            assert sorted(answers) == [0.25, 0.5, 0.75]
        assert counter.in_flight == 0, "finished requests leave the count"

    asyncio.run(scenario())
    assert request_load({}) == 0.0, "no counter (the replay, tests): no load"

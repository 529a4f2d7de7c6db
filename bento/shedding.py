"""Overload control: each worker counts its page requests in flight, and as that load passes its
capacity a page first scores fewer candidates, then surfaces are refused by priority (design
part 10: notifications past 60% of capacity, related items past 80%, the home feed last).

The ASGI middleware only counts (one event loop per worker: no lock) and hands the load to the
request in its ASGI state; the handler, which knows the surface, asks :func:`admission`. A refusal
is a 503 with ``Retry-After``, counted on ``/metrics`` by surface: the client backs off, and the
requests that are served keep their latency instead of every request queueing.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.funnel_config import LoadConfig

LOAD_STATE = "reco_load"  # the request's ASGI state key: in flight / capacity when it arrived
PAGE_ROUTES = frozenset({"/recommend", "/related"})


@dataclass(frozen=True)
class Admission:
    admitted: bool
    reduced: bool  # score the degradation's reduced_candidates instead of the surface's count
    load: float


def admission(load: float, shed_at: float, config: LoadConfig) -> Admission:
    """Whether a page request at ``load`` is served, and whether with fewer candidates."""
    return Admission(admitted=load <= shed_at, reduced=load > config.shrink_at, load=load)


def refusal(surface: str, admitted: Admission, config: LoadConfig) -> JSONResponse:
    return JSONResponse(
        {
            "error": f"overloaded: {surface} requests are refused at {admitted.load:.0%} of capacity; "
            f"retry after {config.retry_after_s} s"
        },
        status_code=HTTPStatus.SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(config.retry_after_s)},
    )


def request_load(scope: Scope) -> float:
    """The load the counter recorded for this request (0 when no counter ran: tests, replay)."""
    state = scope.get("state") or {}
    return float(state.get(LOAD_STATE, 0.0))


class LoadCounter:
    """ASGI middleware: the worker's page requests in flight, this one included, over capacity."""

    def __init__(self, app: ASGIApp, capacity: int | None = None) -> None:
        self.app = app
        if capacity is None:
            from contracts.settings import load_settings

            capacity = load_settings().funnel().degradation.load.capacity
        self.capacity = capacity
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in PAGE_ROUTES:
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        scope.setdefault("state", {})[LOAD_STATE] = self.in_flight / self.capacity
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

"""Which role each route needs: deny by default, so a new endpoint is admin until it is listed here.

``client`` calls the product API (recommend, related, events, a user's controls); ``admin`` may
call everything, client routes included (an operator checks a page with the same key). Health,
metrics and the API docs are GETs and stay open; BentoML serves every API route as a POST.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["client", "admin"]
ROLES: tuple[Role, ...] = ("client", "admin")

# The product's own calls: pages, events, and each user's controls over their pages.
CONTROL_ROUTES = frozenset(
    {"/users/block", "/users/unblock", "/users/not-interested", "/users/personalisation", "/users/controls"}
)
CLIENT_ROUTES = frozenset({"/recommend", "/related", "/events", "/events/batch"}) | CONTROL_ROUTES
READ_ROUTES = frozenset({"/recommend", "/related"})  # rate limited per client and per user
OPEN_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def normalized(path: str) -> str:
    """``/recommend/`` is ``/recommend``: a trailing slash must not change the role a route needs."""
    return path.rstrip("/") or "/"


def required_role(method: str, path: str) -> Role | None:
    """The role ``method path`` needs, or None when it is open (health, metrics, docs)."""
    path = normalized(path)
    if path in CLIENT_ROUTES:
        return "client"
    if method.upper() in OPEN_METHODS:
        return None
    return "admin"


def may_call(role: Role, needed: Role) -> bool:
    return needed == "client" or role == "admin"


@dataclass(frozen=True)
class Caller:
    """Who is calling: a key's id, name and role, or anyone at all when auth is off."""

    key_id: str | None
    name: str
    role: Role


ANONYMOUS = Caller(None, "anonymous", "admin")  # only when `required: false`

"""The access guard: ASGI middleware that checks the key, the role and the read limits, and audits
admin calls, before any endpoint runs.

Order per request: open route (GET health, metrics, docs)? pass. No or bad key: 401. Role too low:
403 (audited on admin routes). Read over its per-client or per-user limit: 429 with Retry-After.
Admin route: run it, then append the audit line before the answer leaves. The caller's key id
replaces any ``X-Client-Id`` header, so the per-client event limit in `bento/service.py` counts per
key and a client cannot pick its own bucket. It sits inside `HttpGuard`, which has already bounded
and read the body, so reading it again here costs memory the guard has already allowed.
"""

from __future__ import annotations

import json
import logging
import time
from http import HTTPStatus
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bento.auth.audit import AdminStates, AuditLog, entry, recorded
from bento.auth.limits import ReadLimiter
from bento.auth.roles import ANONYMOUS, READ_ROUTES, Caller, may_call, normalized, required_role
from bento.auth.settings import AuthConfig, load_auth_config
from bento.auth.store import ApiKey, KeyRejected, KeyStore
from bento.http_guard import replay_body
from bento.ingestion.settings import Bucket, ReadRateLimit, load_ingestion_config
from bento.privacy.pseudonym import logged_user
from contracts.api import MAX_ID_LENGTH
from contracts.settings import PlatformPaths, load_settings

log = logging.getLogger(__name__)
CLIENT_HEADER = "x-client-id"  # the per-client bucket name of the event limit (bento/service.py)
KEY_HINT = "send 'Authorization: Bearer <key>' (create one with `python -m bento.auth.keys create`)"


class AccessGuard:
    def __init__(
        self,
        app: ASGIApp,
        config: AuthConfig | None = None,
        read_limits: ReadRateLimit | None = None,
        paths: PlatformPaths | None = None,
    ) -> None:
        self.app = app
        self.config = config or load_auth_config()
        paths = paths or load_settings().paths
        self.keys = KeyStore(paths.api_keys)
        self.limiter = ReadLimiter(read_limits or load_ingestion_config().read_rate_limit)
        self.audit = AuditLog(paths.audit_log)
        self.states = AdminStates(paths.filter_store)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (needed := required_role(scope["method"], scope["path"])) is None:
            await self.app(scope, receive, send)
            return
        route, headers = normalized(scope["path"]), Headers(scope=scope)
        try:
            key = self._key(headers)
        except KeyRejected as rejected:
            await _refuse(HTTPStatus.UNAUTHORIZED, str(rejected), scope, receive, send)
            return
        caller = ANONYMOUS if key is None else Caller(key.key_id, key.name, key.role)
        if not may_call(caller.role, needed):
            message = f"key {caller.key_id} ({caller.name}) has role {caller.role}; {route} needs {needed}"
            if needed == "admin":  # an attempt on an admin route is an admin event too
                body, receive = await _read_body(receive)
                params = recorded(body)
                await self._write_audit(caller, scope["method"], route, params, None, None, 403, message)
            log.warning("refused %s for key %s: role %s", route, caller.key_id, caller.role)
            await _refuse(HTTPStatus.FORBIDDEN, message, scope, receive, send)
            return
        if key is not None:
            scope = _with_client_header(scope, key.key_id)
        if needed == "admin":
            body, receive = await _read_body(receive)
            await self._audited(caller, scope, body, receive, send)
            return
        if route in READ_ROUTES:
            body, receive = await _read_body(receive)
            if (throttled := self._throttle(scope, headers, key, body)) is not None:
                await throttled(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _key(self, headers: Headers) -> ApiKey | None:
        """The caller's key; None when it sent none and none is required."""
        value = headers.get("authorization")
        if value is None or not value.strip():
            if self.config.required:
                raise KeyRejected(f"an API key is required: {KEY_HINT}")
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise KeyRejected(f"the Authorization header must read 'Bearer <key>': {KEY_HINT}")
        return self.keys.authenticate(token)

    def _throttle(
        self, scope: Scope, headers: Headers, key: ApiKey | None, body: bytes
    ) -> JSONResponse | None:
        client = key.key_id if key else headers.get(CLIENT_HEADER) or _address(scope)
        own = None
        if key is not None and key.reads_per_second is not None and key.read_burst is not None:
            own = Bucket(per_second=key.reads_per_second, burst=key.read_burst)
        user = _user_of(body)
        throttle = self.limiter.take(client, user, time.monotonic(), own)
        if throttle is None:
            return None
        if throttle.scope == "user":
            log.warning("read limit reached for user %s (client %s)", logged_user(user), client)
            message = "read rate limit exceeded for this user_id"
        else:
            log.warning("read limit reached for client %s", client)
            message = "read rate limit exceeded for this client"
        return JSONResponse(
            {"error": f"{message}; retry after {throttle.retry_after_s} s"},
            status_code=HTTPStatus.TOO_MANY_REQUESTS,
            headers={"Retry-After": str(throttle.retry_after_s)},
        )

    async def _audited(self, caller: Caller, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """Run an admin route with its answer held back until its audit line is on disk."""
        route, params = normalized(scope["path"]), recorded(body)
        before = self.states.read(route, params)
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        status = HTTPStatus.INTERNAL_SERVER_ERROR
        try:
            await self.app(scope, receive, hold)
            status = next((m["status"] for m in held if m["type"] == "http.response.start"), status)
        finally:
            answer = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            after = self.states.read(route, params)
            await self._write_audit(caller, scope["method"], route, params, before, after, status, answer)
        for message in held:
            await send(message)

    async def _write_audit(
        self, caller: Caller, method: str, route: str, params: Any, before: Any, after: Any,
        status: int, answer: bytes | str,
    ) -> None:  # fmt: skip
        result = recorded(answer) if isinstance(answer, bytes) else {"error": answer}
        line = entry(caller, method, route, params, before, after, int(status), result)
        await anyio.to_thread.run_sync(self.audit.append, line)


def _user_of(body: bytes) -> str | None:
    """The body's user_id, if it is a plausible one (a 1 MiB "id" must not become a bucket key)."""
    try:
        user = json.loads(body).get("user_id")
    except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, or too deep
        return None
    return user.strip() if isinstance(user, str) and 0 < len(user.strip()) <= MAX_ID_LENGTH else None


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _with_client_header(scope: Scope, key_id: str) -> Scope:
    kept = [(k, v) for k, v in scope["headers"] if k.lower() != CLIENT_HEADER.encode()]
    return {**scope, "headers": [*kept, (CLIENT_HEADER.encode(), key_id.encode())]}


async def _refuse(status: HTTPStatus, message: str, scope: Scope, receive: Receive, send: Send) -> None:
    extra = {"WWW-Authenticate": 'Bearer realm="reco"'} if status == HTTPStatus.UNAUTHORIZED else {}
    await JSONResponse({"error": message}, status_code=status, headers=extra)(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a receive channel that hands it on unchanged."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away; downstream sees it next
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    return body, replay_body(body, receive)

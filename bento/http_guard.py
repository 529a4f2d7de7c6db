"""The service's HTTP edge: bodies over the size limit get a 413, anything but JSON a 415.

BentoML reads a whole body into memory and parses any content type it does not know as JSON, so
without this an oversized upload is buffered in full and a form or a pickle reaches the handlers.
The guard is plain ASGI middleware (`Service.add_asgi_middleware`); it reads the body itself, at
most the limit, and hands it on unchanged. JSON and field validation stay with the contracts
(`contracts/api.py`), whose errors BentoML answers with a 400 that names the field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import yaml
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.settings import REPO_ROOT

HTTP_CONFIG = REPO_ROOT / "config" / "http.yaml"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON_MEDIA_TYPE = "application/json"
DIGITS = re.compile(r"[0-9]+")


class HttpLimits(BaseModel):
    # 1 MiB: a full /events/batch (1,000 events) is about 300 KB.
    max_body_bytes: int = Field(1_048_576, ge=1)
    # After a 413 the guard reads and drops up to this much more, so the client can read the answer
    # (closing a socket with unread data resets it); a client that sends more is cut off.
    drain_bytes: int = Field(8_388_608, ge=0)


def load_http_limits(path: Path | None = None) -> HttpLimits:
    """The file at ``path``, else ``$RECO_HTTP_CONFIG``, else `config/http.yaml`."""
    chosen = path or Path(os.environ.get("RECO_HTTP_CONFIG", HTTP_CONFIG))
    return HttpLimits.model_validate(yaml.safe_load(chosen.read_text()) or {})


@dataclass(frozen=True)
class Rejection:
    status: HTTPStatus
    message: str

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


def check_headers(headers: Headers, max_body_bytes: int) -> Rejection | None:
    """What is wrong with a body-carrying request's headers, before any of the body is read."""
    length = headers.get("content-length")
    if length is not None:
        if not DIGITS.fullmatch(length.strip()):  # str.isdigit would pass "²", which int() refuses
            return Rejection(HTTPStatus.BAD_REQUEST, f"Content-Length {length!r} is not a byte count")
        if int(length) > max_body_bytes:
            return _too_large(max_body_bytes)
    content_type = headers.get("content-type")
    if content_type is None or not content_type.strip():
        return Rejection(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type is missing: send the body as application/json"
        )
    media_type, *params = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_MEDIA_TYPE:
        return Rejection(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {content_type[:100]!r} is not supported: send application/json",
        )
    for param in params:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"')
        if name.strip().lower() == "charset" and charset.lower() not in ("utf-8", "utf8"):
            return Rejection(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"charset {charset[:40]!r} is not supported: use utf-8"
            )
    return None


def _too_large(max_body_bytes: int) -> Rejection:
    return Rejection(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body exceeds the limit of {max_body_bytes} bytes"
    )


class HttpGuard:
    """ASGI middleware in front of the API routes; GETs (health, metrics, docs) pass untouched."""

    def __init__(self, app: ASGIApp, limits: HttpLimits | None = None) -> None:
        self.app = app
        self.limits = limits or load_http_limits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        reader = _BodyReader(receive)
        rejection = check_headers(Headers(scope=scope), self.limits.max_body_bytes)
        if rejection is None:
            body = await reader.read(self.limits.max_body_bytes)
            if reader.gone:
                return
            if body is not None:
                await self.app(scope, replay_body(body, receive), send)
                return
            rejection = _too_large(self.limits.max_body_bytes)
        await reader.read(self.limits.drain_bytes)  # unread data would reset the socket
        if not reader.gone:
            await rejection.response()(scope, receive, send)


class _BodyReader:
    """Reads a body off an ASGI receive channel and remembers whether it has ended: a receive after
    the last chunk waits for the client to disconnect, so it must never be called then."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.ended = self.gone = False

    async def read(self, limit: int) -> bytes | None:
        """The rest of the body if it fits in ``limit`` bytes, else None (stopping past the limit)."""
        chunks: list[bytes] = []
        size = 0
        while not self.ended:
            message = await self.receive()
            if message["type"] != "http.request":  # http.disconnect: the client went away
                self.ended = self.gone = True
                break
            chunk = message.get("body", b"")
            self.ended = not message.get("more_body", False)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields the body already read, then the client's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed

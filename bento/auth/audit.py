"""The admin audit log: who did what, when, with what before and after, and how it ended.

One JSON object per line in ``$RECO_HOME/audit/admin.jsonl``, opened for append only and fsynced
per line; the guard writes the line before the caller sees the answer, so an acknowledged admin
action is always on disk. User ids are keyed hashes (`bento/privacy/pseudonym.py`). A forget records
its receipt, never the erased user's data: the log must not keep what the erasure removed.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bento.auth.roles import Caller
from bento.catalogue.filter_store import FilterStore
from bento.privacy.pseudonym import logged_user

ITEM_ROUTES = frozenset({"/items", "/items/update", "/items/delete"})
USER_FIELDS = frozenset({"user_id"})
MAX_RECORDED_CHARS = 4_000  # a parameter or result longer than this is cut, with its length kept


def pseudonymized(value: Any) -> Any:
    """``value`` with every ``user_id`` replaced by its log hash, at any depth."""
    if isinstance(value, dict):
        return {
            k: logged_user(v) if k in USER_FIELDS and isinstance(v, str) else pseudonymized(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [pseudonymized(v) for v in value]
    return value


def recorded(raw: bytes) -> Any:
    """A request or response body as the log keeps it: parsed JSON, pseudonymized and bounded."""
    try:
        value = pseudonymized(json.loads(raw)) if raw else None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser: keep the size
        return {"unparsed_bytes": len(raw)}
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_RECORDED_CHARS:
        return {"truncated": text[:MAX_RECORDED_CHARS], "chars": len(text)}
    return value


class AdminStates:
    """Reads the state an admin route changes, before and after the call (None where a route has
    no state to show: a forget's "after" is its receipt, its "before" the data it erases)."""

    def __init__(self, filter_store: Path) -> None:
        self._path = filter_store
        self._filters: FilterStore | None = None

    def read(self, route: str, params: Any) -> Any:
        item_id = params.get("item_id") if isinstance(params, dict) else None
        if route not in ITEM_ROUTES or not isinstance(item_id, str):
            return None
        if self._filters is None:  # opened on the first admin call, after the service seeded it
            self._filters = FilterStore(self._path)
        return {"item": self._filters.get(item_id.strip())}


class AuditLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> None:
        """Add one line and fsync it. O_APPEND writes of one line do not interleave between workers."""
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)


def entry(
    caller: Caller,
    method: str,
    route: str,
    params: Any,
    before: Any,
    after: Any,
    status: int,
    result: Any,
) -> dict[str, Any]:
    """One audit line; ``outcome`` is ok (2xx), denied (401/403), refused (other 4xx) or error."""
    outcome = (
        "ok" if status < 400 else "denied" if status in (401, 403) else "refused" if status < 500 else "error"
    )
    return {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "who": {"key_id": caller.key_id, "name": caller.name, "role": caller.role},
        "what": {"method": method, "endpoint": route, "parameters": params},
        "before": before,
        "after": after,
        "outcome": {"result": outcome, "status": status, "response": result},
    }

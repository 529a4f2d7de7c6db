"""The API key store: one row per key, the secret kept only as its SHA-256 digest.

A key reads ``reco_<key id>_<secret>``: the id (12 hex digits) finds the row, the secret (32 random
bytes, URL-safe) is checked against the digest in constant time. The secret has 256 bits of
entropy, so a plain SHA-256 suffices (slow hashes are for guessable passwords), and the store holds
nothing a caller could send. The embedded profile keeps it in SQLite under ``$RECO_HOME/auth/``
(WAL: the CLI writes while the service reads; a revocation holds on the next request).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bento.auth.roles import ROLES, Role

PREFIX = "reco"
KEY_PATTERN = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, digest TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT, reads_per_second REAL, read_burst REAL
);
"""
COLUMNS = "key_id, name, role, digest, created_at, revoked_at, reads_per_second, read_burst"


class KeyRejected(Exception):
    """A key that does not open the door; the message says why, without echoing the key."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    role: Role
    created_at: str
    revoked_at: str | None = None
    reads_per_second: float | None = None  # None: the configured per-client read limit
    read_burst: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        path.chmod(0o600)
        self._lock = threading.Lock()

    def create(
        self,
        name: str,
        role: Role,
        reads_per_second: float | None = None,
        read_burst: float | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret form: the only time the secret exists outside the caller."""
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not name.strip():
            raise ValueError("a key needs a name (the client it is for)")
        if (reads_per_second is None) != (read_burst is None):
            raise ValueError("give both reads_per_second and read_burst, or neither")
        if reads_per_second is not None and (reads_per_second <= 0 or (read_burst or 0) <= 0):
            raise ValueError("read limits must be positive")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        key = ApiKey(key_id, name.strip(), role, _now(), None, reads_per_second, read_burst)
        with self._lock:
            self._db.execute(
                f"INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key_id, key.name, role, _digest(secret), key.created_at, None, reads_per_second, read_burst),
            )
        return key, f"{PREFIX}_{key_id}_{secret}"

    def authenticate(self, token: str) -> ApiKey:
        """The active key ``token`` names, or KeyRejected saying what is wrong with it."""
        match = KEY_PATTERN.fullmatch(token.strip())
        if match is None:
            raise KeyRejected(f"the API key is malformed: expected {PREFIX}_<id>_<secret>")
        key_id, secret = match.groups()
        row = self._db.execute(f"SELECT {COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        # The digest is compared even for an unknown id, so timing does not tell ids apart.
        stored = row[3] if row is not None else _digest("")
        if not hmac.compare_digest(stored, _digest(secret)) or row is None:
            raise KeyRejected("the API key is not valid")
        key = _key(row)
        if not key.active:
            raise KeyRejected(f"API key {key.key_id} ({key.name}) was revoked at {key.revoked_at}")
        return key

    def get(self, key_id: str) -> ApiKey | None:
        row = self._db.execute(f"SELECT {COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return None if row is None else _key(row)

    def keys(self, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = self._db.execute(f"SELECT {COLUMNS} FROM api_keys {where} ORDER BY created_at, key_id")
        return [_key(r) for r in rows.fetchall()]

    def revoke(self, key_id: str) -> bool:
        """Revoke one key; False when there is no such active key."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (_now(), key_id)
            )
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()


def _key(row: tuple) -> ApiKey:
    key_id, name, role, _, created_at, revoked_at, per_second, burst = row
    return ApiKey(key_id, name, role, created_at, revoked_at, per_second, burst)

"""The erasure ledger: every "forget this user" request, recorded durably before it is acknowledged.

One SQLite file under ``$RECO_HOME/privacy/erasures.db`` (WAL, ``synchronous=FULL``: a committed
request survives a crash). Serving and the offline loop each finish their own half and stamp it:
``serving_done_at`` (event log, online features, caches) and ``offline_done_at`` (warehouse, offline
features, training sets, artifacts), with the counts of what they removed. A request is idempotent
per user while it is open: asking again returns the same receipt. Both halves are safe to re-run, so
a crash between recording and finishing is repaired by re-running whatever is still pending.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS erasures (
    request_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    serving_done_at TEXT,
    serving_counts TEXT,
    offline_done_at TEXT,
    offline_counts TEXT
);
CREATE INDEX IF NOT EXISTS erasures_open ON erasures (user_id, offline_done_at);
"""
COLUMNS = (
    "request_id, user_id, requested_at, serving_done_at, serving_counts, offline_done_at, offline_counts"
)


def ledger_path(home: Path) -> Path:
    return Path(home) / "privacy" / "erasures.db"


@dataclass(frozen=True)
class Erasure:
    request_id: str
    user_id: str
    requested_at: datetime
    serving_done_at: datetime | None
    serving_counts: dict[str, int]
    offline_done_at: datetime | None
    offline_counts: dict[str, int]

    @property
    def complete(self) -> bool:
        return self.serving_done_at is not None and self.offline_done_at is not None


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _row(row: tuple) -> Erasure:
    return Erasure(
        request_id=row[0],
        user_id=row[1],
        requested_at=datetime.fromisoformat(row[2]),
        serving_done_at=_time(row[3]),
        serving_counts=json.loads(row[4] or "{}"),
        offline_done_at=_time(row[5]),
        offline_counts=json.loads(row[6] or "{}"),
    )


class ErasureLedger:
    """Thread-safe by opening a connection per call (SQLite serialises the writers)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

    def request(self, user_id: str, now: datetime | None = None) -> tuple[Erasure, bool]:
        """Record a request (committed before returning); an open one for the user is returned as is.
        Returns the request and whether it is new."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            open_row = conn.execute(
                f"SELECT {COLUMNS} FROM erasures WHERE user_id = ? AND offline_done_at IS NULL "
                "ORDER BY requested_at LIMIT 1",
                (user_id,),
            ).fetchone()
            if open_row is not None:
                conn.execute("COMMIT")
                return _row(open_row), False
            row = (f"erase_{uuid.uuid4().hex}", user_id, (now or datetime.now(UTC)).isoformat())
            conn.execute("INSERT INTO erasures (request_id, user_id, requested_at) VALUES (?, ?, ?)", row)
            conn.execute("COMMIT")
        return self.get(row[0]), True

    def get(self, request_id: str) -> Erasure:
        with self._connect() as conn:
            query = f"SELECT {COLUMNS} FROM erasures WHERE request_id = ?"
            row = conn.execute(query, (request_id,)).fetchone()
        if row is None:
            raise KeyError(request_id)
        return _row(row)

    def _select(self, where: str) -> list[Erasure]:
        with self._connect() as conn:
            query = f"SELECT {COLUMNS} FROM erasures WHERE {where} ORDER BY requested_at"
            rows = conn.execute(query).fetchall()
        return [_row(r) for r in rows]

    def pending_serving(self) -> list[Erasure]:
        return self._select("serving_done_at IS NULL")

    def pending_offline(self) -> list[Erasure]:
        return self._select("offline_done_at IS NULL")

    def served_after(self, seen: int) -> list[tuple[int, str]]:
        """(row, user) of the requests recorded after row ``seen`` whose serving half is done,
        oldest first, up to the first still in progress: what the other serving workers apply
        (``bento.worker_sync``) once the worker that took the request has finished its part."""
        with self._connect() as conn:
            query = "SELECT rowid, user_id, serving_done_at FROM erasures WHERE rowid > ? ORDER BY rowid"
            rows = conn.execute(query, (seen,)).fetchall()
        done: list[tuple[int, str]] = []
        for row, user, served_at in rows:
            if served_at is None:
                break  # not past it: its worker is still erasing (or resumes it on restart)
            done.append((int(row), str(user)))
        return done

    def last_row(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM erasures").fetchone()[0])

    def all(self) -> list[Erasure]:
        return self._select("1 = 1")

    def _stamp(self, request_id: str, half: str, counts: dict[str, int]) -> None:
        with self._connect() as conn:
            conn.execute(
                f"UPDATE erasures SET {half}_done_at = ?, {half}_counts = ? WHERE request_id = ?",
                (datetime.now(UTC).isoformat(), json.dumps(counts), request_id),
            )

    def mark_serving_done(self, request_id: str, counts: dict[str, int]) -> None:
        self._stamp(request_id, "serving", counts)

    def mark_offline_done(self, request_id: str, counts: dict[str, int]) -> None:
        self._stamp(request_id, "offline", counts)

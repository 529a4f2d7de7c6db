"""The filter store: item availability that must hold on the very next request.

Deletions, stock and policy flags live here, in SQLite with WAL, not in the feature store: they are
read on every request and must never be stale. Each request asks SQLite whether anything changed
(``PRAGMA data_version``, microseconds) and reloads the unavailable set only when it did, so a write
by any process is seen by every worker's next request.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bento.shared_db import open_shared_db

COLUMNS = ("item_id", "category", "brand", "title", "price", "created_at", "in_stock", "sponsored")
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY, category TEXT NOT NULL, brand TEXT NOT NULL, title TEXT NOT NULL,
    price REAL, created_at TEXT NOT NULL, in_stock INTEGER NOT NULL, sponsored INTEGER NOT NULL,
    policy_flag TEXT, deleted INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS unavailable ON items (deleted, in_stock) WHERE deleted = 1 OR in_stock = 0
    OR policy_flag IS NOT NULL;
"""


class FilterStore:
    def __init__(self, path: Path) -> None:
        self._db = open_shared_db(path, SCHEMA)
        self._lock = threading.Lock()
        self._seen_version = -1
        self._unavailable: frozenset[str] = frozenset()

    def seed(self, catalogue: pd.DataFrame) -> int:
        """Load the bundle's catalogue once; later writes through the API are kept over it."""
        rows = [
            (
                item_id,
                str(r.category),
                str(r.brand),
                str(r.title),
                None if pd.isna(r.price) else float(r.price),
                pd.Timestamp(r.created_at).isoformat(),
                int(bool(r.in_stock)),
                int(bool(r.sponsored)),
                _now(),
            )
            for item_id, r in catalogue.iterrows()
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO items (item_id, category, brand, title, price, created_at, in_stock,"
                " sponsored, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute("COMMIT")
            self._seen_version = -1
        return len(rows)

    def upsert(self, item: dict[str, Any]) -> None:
        values = {**item, "updated_at": _now(), "deleted": 0}
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{k} = excluded.{k}" for k in values if k != "item_id")
        with self._lock:
            self._db.execute(
                f"INSERT INTO items ({names}) VALUES ({marks}) ON CONFLICT(item_id) DO UPDATE SET {updates}",
                [_sql(v) for v in values.values()],
            )
            self._seen_version = -1  # our own writes do not bump this connection's data_version

    def update(self, item_id: str, changes: dict[str, Any]) -> bool:
        """Apply ``changes`` to a live item; False when the item does not exist or was deleted."""
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE items SET {assignments}, updated_at = ? WHERE item_id = ? AND deleted = 0",
                [*(_sql(v) for v in changes.values()), _now(), item_id],
            )
            self._seen_version = -1
        return cursor.rowcount == 1

    def delete(self, item_id: str) -> bool:
        return self.update(item_id, {"deleted": 1})

    def get(self, item_id: str) -> dict[str, Any] | None:
        cursor = self._db.execute("SELECT * FROM items WHERE item_id = ? AND deleted = 0", (item_id,))
        row = cursor.fetchone()
        return None if row is None else dict(zip([c[0] for c in cursor.description], row, strict=True))

    def unavailable(self) -> frozenset[str]:
        """Deleted, out-of-stock and policy-flagged items, as of now (reloaded only on change)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            rows = self._db.execute(
                "SELECT item_id FROM items WHERE deleted = 1 OR in_stock = 0 OR policy_flag IS NOT NULL"
            ).fetchall()
            self._unavailable = frozenset(r[0] for r in rows)
            self._seen_version = version
        return self._unavailable

    def close(self) -> None:
        self._db.close()


def _sql(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat()


def read_catalogue_changes(path: Path) -> tuple[pd.DataFrame, set[str]]:
    """Live items (in the catalogue schema) and deleted ids, for the daily catalogue rebuild."""
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS)), set()
    with sqlite3.connect(path) as db:
        frame = pd.read_sql_query("SELECT * FROM items", db)
    deleted = set(frame.loc[frame["deleted"] == 1, "item_id"])
    live = frame[(frame["deleted"] == 0) & frame["policy_flag"].isna()].copy()
    live["created_at"] = pd.to_datetime(live["created_at"], utc=True, format="ISO8601")
    live["in_stock"] = live["in_stock"].astype(bool)
    live["sponsored"] = live["sponsored"].astype(bool)
    live["price"] = live["price"].astype("float64")
    return live[list(COLUMNS)], deleted | set(frame.loc[frame["policy_flag"].notna(), "item_id"])


def read_deleted_items(path: Path) -> set[str]:
    """Items deleted through the API (policy-flagged ones are only hidden: they may come back)."""
    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT item_id FROM items WHERE deleted = 1")}

"""What each user asked of their pages: items and categories blocked, items marked "not
interested", personalisation off.

In SQLite with WAL beside the filter store, not in the feature store: a control must hold on the
very next request, on every worker. Each lookup asks SQLite whether anything changed (``PRAGMA
data_version``, microseconds) and drops this process's memo of users' controls when it did, so a
write by any worker is seen by all of them at once. Forget erases a user's rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bento.shared_db import open_shared_db

BlockKind = Literal["item", "category"]
BLOCKED, NOT_INTERESTED = "blocked", "not_interested"  # why an item is hidden
MEMO_USERS = 100_000  # users whose controls a worker keeps between writes

SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    user_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('item', 'category')),
    value TEXT NOT NULL, why TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, value)
);
CREATE TABLE IF NOT EXISTS opt_outs (user_id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class UserControls:
    items: frozenset[str] = frozenset()  # blocked or not interested: never shown again
    categories: frozenset[str] = frozenset()
    not_interested: frozenset[str] = frozenset()  # the subset of ``items`` marked not interested
    opted_out: bool = False  # personalisation off: non-personalised lists only

    @property
    def empty(self) -> bool:
        return not (self.items or self.categories or self.opted_out)


NO_CONTROLS = UserControls()


class UserControlStore:
    def __init__(self, path: Path) -> None:
        self._db = open_shared_db(path, SCHEMA)
        self._lock = threading.Lock()
        self._seen_version = -1
        self._memo: dict[str, UserControls] = {}

    def of(self, user_id: str) -> UserControls:
        """The user's controls as of now (any worker's writes included)."""
        with self._lock:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._seen_version or len(self._memo) > MEMO_USERS:
                self._memo.clear()
                self._seen_version = version
            if user_id not in self._memo:
                self._memo[user_id] = self._read(user_id)
            return self._memo[user_id]

    def _read(self, user_id: str) -> UserControls:
        query = "SELECT kind, value, why FROM blocks WHERE user_id = ?"
        rows = self._db.execute(query, (user_id,)).fetchall()
        opted = self._db.execute("SELECT 1 FROM opt_outs WHERE user_id = ?", (user_id,)).fetchone()
        if not rows and opted is None:
            return NO_CONTROLS
        return UserControls(
            items=frozenset(value for kind, value, _ in rows if kind == "item"),
            categories=frozenset(value for kind, value, _ in rows if kind == "category"),
            not_interested=frozenset(value for kind, value, why in rows if why == NOT_INTERESTED),
            opted_out=opted is not None,
        )

    def block(self, user_id: str, kind: BlockKind, value: str, why: str = BLOCKED) -> UserControls:
        self._write(
            "INSERT INTO blocks (user_id, kind, value, why, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, kind, value) DO UPDATE SET why = excluded.why",
            (user_id, kind, value, why, _now()),
        )
        return self.of(user_id)

    def unblock(self, user_id: str, kind: BlockKind, value: str) -> UserControls:
        self._write("DELETE FROM blocks WHERE user_id = ? AND kind = ? AND value = ?", (user_id, kind, value))
        return self.of(user_id)

    def personalise(self, user_id: str, enabled: bool) -> UserControls:
        if enabled:
            self._write("DELETE FROM opt_outs WHERE user_id = ?", (user_id,))
        else:
            statement = "INSERT OR IGNORE INTO opt_outs (user_id, created_at) VALUES (?, ?)"
            self._write(statement, (user_id, _now()))
        return self.of(user_id)

    def forget(self, user_id: str) -> int:
        """Erase every control of the user; returns how many rows went."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            gone = self._db.execute("DELETE FROM blocks WHERE user_id = ?", (user_id,)).rowcount
            gone += self._db.execute("DELETE FROM opt_outs WHERE user_id = ?", (user_id,)).rowcount
            self._db.execute("COMMIT")
            self._memo.pop(user_id, None)
        return gone

    def _write(self, statement: str, values: tuple[str, ...]) -> None:
        with self._lock:
            self._db.execute(statement, values)
            self._memo.clear()  # data_version does not move for this connection's own writes

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()

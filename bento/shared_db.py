"""The SQLite files every worker shares (filter store, user controls): WAL, so readers never wait
on a writer, and a full fsync per commit, so an acknowledged write survives power loss."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_shared_db(path: Path, schema: str) -> sqlite3.Connection:
    """A connection to ``path`` (created with ``schema`` if new), usable from any thread; callers
    serialise their own use of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db

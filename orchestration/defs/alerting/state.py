"""What each notifier has been told, in a small SQLite file under $RECO_HOME: de-duplication.

A row (subject, notifier) means that notifier holds an open alert at that severity. Planning is a
pure function of those rows and the alerts that should be open: trigger where a notifier has no
row or a lower severity (an escalation), resolve rows whose subject is no longer open. A row is
written only after a delivery succeeded, so a notifier that was down is retried on the next tick
and the others are not told twice.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from orchestration.defs.alerting.config import Severity
from orchestration.defs.alerting.rules import RANK, Alert

Action = Literal["trigger", "resolve"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivered (
  subject TEXT NOT NULL, notifier TEXT NOT NULL, severity TEXT NOT NULL, alert TEXT NOT NULL,
  at TEXT NOT NULL, PRIMARY KEY (subject, notifier));
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Delivery:
    action: Action
    notifier: str
    alert: Alert


def alert_from_dict(data: dict[str, Any]) -> Alert:
    return Alert(
        subject=data["subject"],
        severity=data["severity"],
        title=data["title"],
        since=datetime.fromisoformat(data["since"]),
        detail=data.get("detail", ""),
        downstream=tuple(data.get("downstream", ())),
        runbook=data.get("runbook", ""),
    )


def plan(
    delivered: dict[tuple[str, str], Alert],
    alerts: Iterable[Alert],
    notifiers: dict[str, Severity],
) -> list[Delivery]:
    """Deliveries that bring each notifier (name -> minimum severity) in line with ``alerts``."""
    wanted = {a.subject: a for a in alerts}
    out = []
    for subject, alert in sorted(wanted.items()):
        for name, minimum in notifiers.items():
            told = delivered.get((subject, name))
            if RANK[alert.severity] < RANK[minimum]:
                continue
            if told is None or RANK[told.severity] < RANK[alert.severity]:
                out.append(Delivery("trigger", name, alert))
    for (subject, name), told in sorted(delivered.items()):
        if subject not in wanted or name not in notifiers:
            out.append(Delivery("resolve", name, told))
    return out


class AlertBook:
    """The delivered-alert rows plus a few named values (the previous metrics scrape)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One evaluation at a time (the interval sensor and the run-failure sensor may overlap)."""
        with open(self.path.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def delivered(self) -> dict[tuple[str, str], Alert]:
        with self._db() as db:
            rows = db.execute("SELECT subject, notifier, alert FROM delivered").fetchall()
        return {(s, n): alert_from_dict(json.loads(a)) for s, n, a in rows}

    def record(self, delivery: Delivery, at: datetime) -> None:
        with self._db() as db:
            if delivery.action == "resolve":
                db.execute(
                    "DELETE FROM delivered WHERE subject = ? AND notifier = ?",
                    (delivery.alert.subject, delivery.notifier),
                )
                return
            db.execute(
                "INSERT OR REPLACE INTO delivered VALUES (?, ?, ?, ?, ?)",
                (
                    delivery.alert.subject,
                    delivery.notifier,
                    delivery.alert.severity,
                    json.dumps(delivery.alert.as_dict()),
                    at.isoformat(),
                ),
            )

    def get(self, name: str) -> Any:
        with self._db() as db:
            row = db.execute("SELECT value FROM kv WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, name: str, value: Any) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (name, json.dumps(value)))

"""What one Recommender worker learns from the others, when several serve behind one port.

Each worker holds its own memory: cached pages, last good pages, the items a user just engaged
with, the bundle's per-user state. A click or a forget reaches one worker; the others learn it from
the stores they share within ``poll_s``: new events from the event log (the user's cached pages
are dropped, the items hidden from their next pages), erasures from the erasure ledger once the
worker that took one has done its part (everything held on the user goes). The in-process session
updater runs in one worker at a time, the one that holds its lock file: when that worker dies the
lock goes with it, and the next poll of another worker takes over from the committed offset.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bento.ingestion.log_backend import EventSource
from bento.privacy.ledger import ErasureLedger

log = logging.getLogger(__name__)
FOLLOW_BATCH = 5_000  # event records read per poll
LEADER_LOCK = "session_updater.lock"


class Leadership:
    """A non-blocking ``flock`` on a file: held by one process at a time, released when it dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def try_take(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the lock
            self._handle = None


class WorkerSync:
    def __init__(
        self,
        events: EventSource,
        ledger: ErasureLedger,
        on_events: Callable[[str, list[str]], None],
        on_forget: Callable[[str], None],
        leadership: Leadership | None = None,
        on_lead: Callable[[], None] | None = None,
    ) -> None:
        self.events, self.ledger = events, ledger
        self.on_events, self.on_forget = on_events, on_forget
        self.leadership, self.on_lead = leadership, on_lead
        self.offset = events.end_offset()  # what came before this worker started is in its bundle
        self.erasures_seen = ledger.last_row()  # older ones: ``UserEraser.resume`` at start-up

    def poll_once(self) -> int:
        """Apply what the other workers took in since the last poll; returns the events seen."""
        records = self.events.read(self.offset, FOLLOW_BATCH)
        engaged: dict[str, list[str]] = {}
        for offset, record in records:
            self.offset = offset + 1
            if "item_id" in record and "user_id" in record:
                engaged.setdefault(str(record["user_id"]), []).append(str(record["item_id"]))
        for user, items in engaged.items():
            self.on_events(user, items)
        for row, user in self.ledger.served_after(self.erasures_seen):
            self.on_forget(user)
            self.erasures_seen = row
        if self.leadership is not None and not self.leadership.held and self.leadership.try_take():
            log.info("this worker now runs the session updater")
            if self.on_lead is not None:
                self.on_lead()
        return len(records)

    def run(self, stop: threading.Event, poll_s: float) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("following the other workers failed; retrying")
            stop.wait(poll_s)


def start_in_background(sync: WorkerSync, poll_s: float) -> threading.Event:
    """Poll on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=sync.run, args=(stop, poll_s), name="worker-sync", daemon=True).start()
    return stop

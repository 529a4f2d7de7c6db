"""One worker learning what the others took: their events from the shared log, their forgets from
the erasure ledger once served, and the session updater's lead passing on when its holder goes."""

from __future__ import annotations

from pathlib import Path

from bento.ingestion.event_log import EventLog
from bento.privacy.ledger import ErasureLedger
from bento.worker_sync import Leadership, WorkerSync


def click(n: int, user: str = "u1") -> dict:
    return {
        "event_id": f"e{n}",
        "user_id": user,
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": f"2026-01-01T00:00:{n:02d}+00:00",
    }


def test_events_another_worker_took_reach_this_one(tmp_path: Path) -> None:
    mine, theirs = EventLog(tmp_path / "log"), EventLog(tmp_path / "log")
    mine.append(click(0))  # before this worker started following: in its bundle already
    noted: list[tuple[str, list[str]]] = []
    sync = WorkerSync(mine, ErasureLedger(tmp_path / "ledger.db"), lambda u, i: noted.append((u, i)), print)
    theirs.append_many([click(1), click(2, user="u2"), click(3)])
    assert sync.poll_once() == 3
    assert noted == [("u1", ["i1", "i3"]), ("u2", ["i2"])]
    assert sync.poll_once() == 0 and len(noted) == 2, "each event once"


def test_a_forget_is_applied_once_its_worker_has_served_it(tmp_path: Path) -> None:
    ledger = ErasureLedger(tmp_path / "ledger.db")
    forgotten: list[str] = []
    sync = WorkerSync(EventLog(tmp_path / "log"), ledger, lambda u, i: None, forgotten.append)
    first, _ = ledger.request("u1")
    second, _ = ledger.request("u2")
    ledger.mark_serving_done(second.request_id, {})
    sync.poll_once()
    assert forgotten == [], "u1 is still being erased by the worker that took it: nothing past it"
    ledger.mark_serving_done(first.request_id, {})
    sync.poll_once()
    sync.poll_once()
    assert forgotten == ["u1", "u2"], "in order, each once"


def test_the_session_updater_lead_passes_on_when_its_holder_lets_go(tmp_path: Path) -> None:
    lock = tmp_path / "log" / "session_updater.lock"
    led: list[str] = []
    workers = [
        WorkerSync(
            EventLog(tmp_path / "log"),
            ErasureLedger(tmp_path / "ledger.db"),
            lambda u, i: None,
            print,
            leadership=Leadership(lock),
            on_lead=lambda name=name: led.append(name),
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.poll_once()
    assert led == ["a"], "one leader at a time"
    assert workers[0].leadership is not None
    workers[0].leadership.release()  # a dead process's lock goes with its descriptors
    workers[1].poll_once()
    assert led == ["a", "b"]

"""Ingestion never touches the feature store: events are durable and acknowledged with it down."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bento.ingestion.event_log import EventLog, read_events
from bento.ingestion.events import EventIngestor
from contracts.api import EventIn


def test_events_are_acknowledged_and_kept_without_the_feature_store(tmp_path: Path) -> None:
    catalogue = pd.DataFrame({"category": ["books"]}, index=pd.Index(["i1"], name="item_id"))
    told: list[tuple[str, list[str]]] = []
    with EventLog(tmp_path) as log:
        ingestor = EventIngestor(
            log, catalogue, on_user_events=lambda user, items: told.append((user, items))
        )
        ack = ingestor.ingest(EventIn(user_id="u1", item_id="i1", event_type="click"))
        batch = ingestor.ingest_batch([{"user_id": "u2", "item_id": "i1", "event_type": "view"}])
    assert ack.accepted and not ack.duplicate
    assert batch.accepted == 1
    assert [r["user_id"] for r in read_events(tmp_path)] == ["u1", "u2"]
    assert told == [("u1", ["i1"]), ("u2", ["i1"])], "the funnel hears of each user's engagements"

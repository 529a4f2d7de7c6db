"""Streaming path down: an event is still durable and acknowledged; the archiver carries it on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bento.features import OnlineFeatures
from bento.ingestion.event_log import EventLog, read_events
from bento.ingestion.events import EventIngestor
from contracts.api import EventIn


class FeatureStoreDown:
    def get_online_features(self, **_: object):
        raise ConnectionError("online store unreachable")

    def push(self, *_: object, **__: object) -> None:
        raise ConnectionError("online store unreachable")


def test_events_are_acknowledged_and_kept_when_the_session_push_fails(tmp_path: Path) -> None:
    catalogue = pd.DataFrame({"category": ["books"]}, index=pd.Index(["i1"], name="item_id"))
    forgotten: list[str] = []
    with EventLog(tmp_path) as log:
        ingestor = EventIngestor(
            log,
            OnlineFeatures(FeatureStoreDown()),
            catalogue,
            on_user_events=forgotten.append,  # type: ignore[arg-type]
        )
        ack = ingestor.ingest(EventIn(user_id="u1", item_id="i1", event_type="click"))
        batch = ingestor.ingest_batch([{"user_id": "u2", "item_id": "i1", "event_type": "view"}])
    assert ack.accepted and not ack.duplicate
    assert batch.accepted == 1
    assert [r["user_id"] for r in read_events(tmp_path)] == ["u1", "u2"]
    assert forgotten == ["u1", "u2"], "cached responses are dropped even when the push fails"

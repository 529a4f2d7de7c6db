"""Event ingestion: validate, append durably, then update the user's live session features."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pandas as pd

from bento.features import OnlineFeatures
from bento.ingestion.event_log import EventLog
from contracts.api import EventAck, EventIn
from contracts.schemas import NO_POSITION, UNKNOWN
from contracts.session import next_session_state

log = logging.getLogger(__name__)


class UnknownItemError(ValueError):
    pass


def to_record(event: EventIn, received_at: datetime) -> dict:
    """The log's record for an event: every field filled, timestamps in UTC ISO format."""
    return {
        "event_id": event.event_id or f"evt_{uuid.uuid4().hex}",
        "user_id": event.user_id,
        "item_id": event.item_id,
        "event_type": event.event_type,
        "timestamp": (event.timestamp or received_at).astimezone(UTC).isoformat(),
        "surface": event.surface or UNKNOWN,
        "position": NO_POSITION if event.position is None else event.position,
        "session_id": event.session_id or UNKNOWN,
        "device": event.device or UNKNOWN,
        "value": 0.0 if event.value is None else event.value,
    }


class EventIngestor:
    def __init__(self, event_log: EventLog, features: OnlineFeatures, catalogue: pd.DataFrame) -> None:
        self.log, self.features, self.catalogue = event_log, features, catalogue

    def ingest(self, event: EventIn) -> EventAck:
        if event.item_id not in self.catalogue.index:
            raise UnknownItemError(f"item_id {event.item_id!r} is not in the catalogue")
        record = to_record(event, datetime.now(UTC))
        result = self.log.append(record)  # returns only once fsync'd: the acknowledgement is durable
        if not result.duplicate:
            self._update_session(event, record)
        return EventAck(
            event_id=record["event_id"], accepted=True, duplicate=result.duplicate, log_offset=result.offset
        )

    def _update_session(self, event: EventIn, record: dict) -> None:
        try:
            category = str(self.catalogue.at[event.item_id, "category"])
            state = next_session_state(
                self.features.session(event.user_id), event.event_type, event.item_id, category
            )
            self.features.push_session(event.user_id, state, datetime.fromisoformat(record["timestamp"]))
        except Exception:  # the event is durable; the archiver replays it into batch features
            log.exception("session feature push failed for event %s", record["event_id"])

"""Event ingestion: validate, append durably, acknowledge.

Session features are not touched here: the streaming updater (`bento.ingestion.session_updater`)
consumes the log, so an acknowledgement never waits on, or fails with, the feature store.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import ValidationError

from bento.errors import UnknownItemError
from bento.ingestion.log_backend import EventLogBackend
from contracts.api import BatchAck, BatchEventResult, EventAck, EventIn
from contracts.schemas import NO_POSITION, POSITIVE_EVENT_WEIGHTS, UNKNOWN


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


def validation_reason(error: ValidationError) -> str:
    """One line naming each bad field and what is wrong with it."""
    parts = []
    for problem in error.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "event"
        parts.append(f"{field}: {problem['msg']}")
    return "; ".join(parts)


class EventIngestor:
    def __init__(
        self,
        event_log: EventLogBackend,
        catalogue: pd.DataFrame,
        on_user_events: Callable[[str, list[str]], None] | None = None,
    ) -> None:
        self.log, self.catalogue = event_log, catalogue
        # Told (user, items they engaged with) once events are durable: the funnel drops the user's
        # cached responses and hides those items until the session updater has pushed them.
        self.on_user_events = on_user_events

    def ingest(self, event: EventIn) -> EventAck:
        if event.item_id not in self.catalogue.index:
            raise UnknownItemError(f"item_id {event.item_id!r} is not in the catalogue")
        record = to_record(event, datetime.now(UTC))
        result = self.log.append(record)  # returns only once fsync'd: the acknowledgement is durable
        if not result.duplicate:
            self._changed(event.user_id, [event])
        return EventAck(
            event_id=record["event_id"], accepted=True, duplicate=result.duplicate, log_offset=result.offset
        )

    def ingest_batch(self, raw_events: list[Any]) -> BatchAck:
        """Validate each event on its own; append the valid ones with one fsync; report per event."""
        received_at = datetime.now(UTC)
        results: dict[int, BatchEventResult] = {}
        valid: list[tuple[int, EventIn, dict]] = []
        for index, raw in enumerate(raw_events):
            try:
                event = EventIn.model_validate(raw)
            except ValidationError as error:
                results[index] = _rejected(index, None, validation_reason(error))
                continue
            if event.item_id not in self.catalogue.index:
                reason = f"item_id: {event.item_id!r} is not in the catalogue"
                results[index] = _rejected(index, event.event_id, reason)
                continue
            valid.append((index, event, to_record(event, received_at)))
        appended = self.log.append_many([record for _, _, record in valid])
        changed: dict[str, list[EventIn]] = {}
        for (index, event, record), result in zip(valid, appended, strict=True):
            status = "duplicate" if result.duplicate else "accepted"
            results[index] = BatchEventResult(index=index, event_id=record["event_id"], status=status)
            if not result.duplicate:
                changed.setdefault(event.user_id, []).append(event)
        for user_id, events in changed.items():
            self._changed(user_id, events)
        ordered = [results[i] for i in sorted(results)]
        return BatchAck(
            accepted=sum(r.status == "accepted" for r in ordered),
            duplicates=sum(r.status == "duplicate" for r in ordered),
            rejected=sum(r.status == "rejected" for r in ordered),
            results=ordered,
        )

    def _changed(self, user_id: str, events: list[EventIn]) -> None:
        if self.on_user_events is not None:
            engaged = [e.item_id for e in events if e.event_type in POSITIVE_EVENT_WEIGHTS]
            self.on_user_events(user_id, engaged)


def _rejected(index: int, event_id: str | None, reason: str) -> BatchEventResult:
    return BatchEventResult(index=index, event_id=event_id, status="rejected", reason=reason)

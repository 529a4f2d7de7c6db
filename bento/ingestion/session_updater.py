"""The streaming feature updater: a consumer of the event log that keeps session features live.

It reads the log from its committed offset, folds each user's new events into their session state
(`contracts.session.next_session_state`, the same fold the training rows use) and pushes one row per
user to Feast. Delivery is at-least-once; the pushed state carries the offset of the last event it
folded in, so a redelivered event is skipped and a session is never counted twice.

The request path only appends to the log: a slow or failing feature store never slows or fails an
acknowledgement, and a restarted updater catches up from its offset (the "streaming down" mode).

Embedded profile: the service runs it on a background thread. Production: one process per log,
`python -m bento.ingestion.session_updater` (the service then runs with `session_updater.mode:
external` in `config/ingestion.yaml`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bento.catalogue.filter_store import FilterStore
from bento.features import OnlineFeatures
from bento.ingestion.consumers import Consumer, offsets_for
from bento.ingestion.log_backend import EventSource
from contracts.schemas import UNKNOWN
from contracts.session import next_session_state

log = logging.getLogger(__name__)
CONSUMER_NAME = "session_features"
CategoryOf = Callable[[str], str]


def fold_user_events(
    state: Mapping[str, Any], records: list[tuple[int, dict[str, Any]]], category_of: CategoryOf
) -> dict[str, Any] | None:
    """``state`` with the records past its ``session_log_offset`` folded in; None if none are new."""
    stored = state.get("session_log_offset")
    applied = -1 if stored is None else int(stored)
    fresh = [(offset, record) for offset, record in records if offset > applied]
    if not fresh:
        return None
    current: dict[str, Any] = dict(state)
    for _, record in fresh:
        item = str(record["item_id"])
        current = next_session_state(current, str(record["event_type"]), item, category_of(item))
    current["session_log_offset"] = fresh[-1][0]
    return current


class SessionUpdater:
    """Batch handler for a :class:`Consumer`: one session read and one push per user per batch."""

    def __init__(
        self,
        features: OnlineFeatures,
        category_of: CategoryOf,
        on_pushed: Callable[[str], None] | None = None,
        on_lag: Callable[[float], None] | None = None,
    ) -> None:
        self.features, self.category_of = features, category_of
        self.on_lag = on_lag  # seconds from an event to its push: the feature-freshness SLI
        # In process: drop the user's cached responses again, since one computed between the event's
        # acknowledgement and this push would not know the event yet.
        self.on_pushed = on_pushed
        self.pushed = 0  # session rows written so far (for metrics and tests)

    def __call__(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        by_user: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for offset, record in batch:
            if "item_id" not in record or "event_type" not in record:  # e.g. an erased user's tombstone
                continue
            by_user.setdefault(str(record["user_id"]), []).append((offset, record))
        for user_id, records in by_user.items():
            state = fold_user_events(self.features.session(user_id), records, self.category_of)
            if state is None:
                continue
            at = datetime.fromisoformat(str(records[-1][1]["timestamp"]))
            self.features.push_session(user_id, state, at)  # raises: the batch is redelivered
            self.pushed += 1
            if self.on_pushed is not None:
                self.on_pushed(user_id)
            if self.on_lag is not None:
                self.on_lag((datetime.now(UTC) - at.astimezone(UTC)).total_seconds())


def filter_store_categories(filters: FilterStore) -> CategoryOf:
    """Item → category from the filter store, which sees items created through the API at once."""
    return lambda item: str((filters.get(item) or {}).get("category", UNKNOWN))


def session_consumer(
    source: EventSource,
    features: OnlineFeatures,
    category_of: CategoryOf,
    batch_size: int,
    on_pushed: Callable[[str], None] | None = None,
    on_lag: Callable[[float], None] | None = None,
) -> Consumer:
    updater = SessionUpdater(features, category_of, on_pushed, on_lag)
    return Consumer(source, offsets_for(source), CONSUMER_NAME, updater, batch_size)


def start_in_background(consumer: Consumer, poll_interval_s: float) -> threading.Event:
    """Run ``consumer`` on a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=consumer.run, args=(stop, poll_interval_s), name=CONSUMER_NAME, daemon=True
    )
    thread.start()
    return stop


def wait_caught_up(consumer: Consumer, timeout_s: float, poll_s: float = 0.005) -> bool:
    """Block until ``consumer`` has committed everything in its log now; False on timeout."""
    target = consumer.source.end_offset()
    deadline = time.monotonic() + timeout_s
    while consumer.committed < target:
        if time.monotonic() > deadline:
            log.warning(
                "session updater still behind (%d < %d) after %.1f s", consumer.committed, target, timeout_s
            )
            return False
        time.sleep(poll_s)
    return True


def main(argv: list[str] | None = None) -> None:
    """Run the updater as its own process over the configured event log until SIGTERM/SIGINT."""
    from bento.ingestion.log_backend import open_event_source
    from bento.ingestion.settings import load_ingestion_config
    from contracts.settings import load_settings
    from feature_repo.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", help="event log directory or redis:// URL (default: the platform's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    config = load_ingestion_config().session_updater
    consumer = session_consumer(
        open_event_source(args.log or settings.paths.event_log),
        OnlineFeatures(open_store(settings)),
        filter_store_categories(FilterStore(settings.paths.filter_store)),
        config.batch_size,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("session updater from offset %d (lag %d)", consumer.committed, consumer.lag())
    consumer.run(stop, config.poll_interval_s)


if __name__ == "__main__":
    main()

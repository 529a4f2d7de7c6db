"""Forgetting a user in serving, right away: the half of an erasure the Recommender does itself.

Order matters. The request is committed to the ledger first (so an acknowledged request is never
lost), then the user's events become tombstones in the event log, their online feature rows go,
the bundle forgets their history and embedding, and their cached responses are dropped last (a
response cached meanwhile from the old state is dropped with them). Each step is idempotent; if the
process dies half way the ledger still says ``serving`` is pending and ``resume`` re-runs it on the
next start. A forgotten user then gets what a new user gets: non-personalised lists, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from feast import FeatureStore

from bento.bundle import ServingBundle
from bento.privacy.ledger import Erasure, ErasureLedger
from bento.privacy.online import delete_online_user
from contracts.api import ForgetReceipt

log = logging.getLogger(__name__)


class ErasableLog(Protocol):
    def erase_user(self, user_id: str) -> int: ...


class UserEraser:
    def __init__(
        self,
        ledger: ErasureLedger,
        event_log: ErasableLog,
        store: FeatureStore,
        bundle: ServingBundle,
        drop_cached: Callable[[str], int],
        settle_streaming: Callable[[], None] | None = None,
        erase_controls: Callable[[str], int] | None = None,
    ) -> None:
        self.ledger, self.event_log, self.store = ledger, event_log, store
        self.bundle, self.drop_cached = bundle, drop_cached
        # Waits until the in-process session updater has pushed every batch it read before the
        # log erasure; without it, a batch in flight could re-create the session row deleted below.
        self.settle_streaming = settle_streaming
        self.erase_controls = erase_controls  # the user's blocks and opt-out (bento/controls)

    def forget(self, user_id: str) -> ForgetReceipt:
        erasure, new = self.ledger.request(user_id)  # durable before anything is acknowledged
        counts = self._erase(erasure.user_id)
        self.ledger.mark_serving_done(erasure.request_id, counts)
        return ForgetReceipt(
            request_id=erasure.request_id,
            user_id=user_id,
            requested_at=erasure.requested_at,
            new_request=new,
            events_erased=counts["events"],
            online_feature_rows_deleted=counts["online_feature_rows"],
            cached_responses_dropped=counts["cached_responses"],
            user_controls_erased=counts["user_controls"],
            offline_pending=erasure.offline_done_at is None,
        )

    def _erase(self, user_id: str) -> dict[str, int]:
        events = self.event_log.erase_user(user_id)
        if self.settle_streaming is not None:
            self.settle_streaming()
        online = delete_online_user(self.store, user_id)
        in_bundle = self.bundle.forget_user(user_id)
        cached = self.drop_cached(user_id)
        controls = self.erase_controls(user_id) if self.erase_controls is not None else 0
        return {
            "events": events,
            "online_feature_rows": online,
            "bundle_state": int(in_bundle),
            "cached_responses": cached,
            "user_controls": controls,
        }

    def resume(self) -> list[Erasure]:
        """On start: finish serving halves a crash interrupted, and keep every user whose offline
        erasure is still pending out of the freshly loaded bundle (its files may predate the sweep)."""
        for erasure in self.ledger.pending_serving():
            log.warning("finishing the interrupted erasure %s", erasure.request_id)
            self.ledger.mark_serving_done(erasure.request_id, self._erase(erasure.user_id))
        pending = self.ledger.pending_offline()
        for erasure in pending:
            self.bundle.forget_user(erasure.user_id)
        return pending

"""Reloading the item-feature table when Feast records a new materialization of item features.

The daily loop materializes ``item_stats`` into the online store from another process; the
service holds those features in memory (``bento.item_table``), so it must notice. Feast keeps each
view's materialization intervals in its registry: a background thread reads them every
``interval_s`` (the item-feature TTL of ``config/funnel.yaml``: features are never staler than
that after a materialization) and, when a newer one has landed, reads the whole table again
through its own connection and swaps it in. Requests keep the old table meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from feast import FeatureStore

from bento.features import OnlineFeatures
from contracts.features import ITEM_STATS_VIEW

log = logging.getLogger(__name__)


def materialized_until(store: FeatureStore) -> datetime | None:
    """The end of the latest materialization of item features Feast's registry records."""
    view = store.get_feature_view(ITEM_STATS_VIEW, allow_registry_cache=False)
    ends = [end for _, end in view.materialization_intervals]
    return max(ends) if ends else None


class ItemTableRefresher:
    """Reloads ``features``' item table through ``reader`` when a materialization lands."""

    def __init__(
        self, features: OnlineFeatures, reader: OnlineFeatures, ids: Callable[[], list[str]]
    ) -> None:
        self.features, self.reader, self.ids = features, reader, ids
        self.seen = materialized_until(reader.store)
        self.reloads = 0

    def poll(self) -> bool:
        """Reload if Feast records a newer materialization than the last seen; True if reloaded."""
        latest = materialized_until(self.reader.store)
        if latest is None or latest == self.seen:
            return False
        started = time.perf_counter()
        rows = self.features.load_items(self.ids(), reader=self.reader)
        self.seen, self.reloads = latest, self.reloads + 1
        log.info(
            "item features materialized until %s: %d rows reloaded in %.1f s",
            latest,
            rows,
            time.perf_counter() - started,
        )
        return True

    def run(self, stop: threading.Event, interval_s: float) -> None:
        while not stop.wait(interval_s):
            try:
                self.poll()
            except Exception:  # the store or registry unreachable: keep serving the table held
                log.exception("could not check or reload the item features")


def watch_materializations(
    features: OnlineFeatures, ids: Callable[[], list[str]], interval_s: float
) -> tuple[ItemTableRefresher, threading.Event]:
    """Start the refresher's thread (its own Feast connection); ``stop`` ends it. With no table
    held (an interval of 0) there is nothing to reload and no thread starts."""
    refresher, stop = ItemTableRefresher(features, features.own_connection(), ids), threading.Event()
    if interval_s <= 0:
        return refresher, stop
    threading.Thread(target=refresher.run, args=(stop, interval_s), name="item_features", daemon=True).start()
    return refresher, stop

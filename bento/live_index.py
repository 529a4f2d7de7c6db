"""Swapping in the indices the scheduled rebuild publishes, without a restart.

The `index_rebuild` job (every few hours) re-embeds the whole catalogue with the served model and
publishes ``$RECO_HOME/artifacts/live_index/<model_version>/`` behind an atomic ``CURRENT.json``
(``training.index.publish``). A background thread here checks that pointer for the bundle's own
model version and, when it names a new build, loads it and swaps it into the bundle: tombstones are
reclaimed and items created since the daily bundle are indexed from the rebuilt catalogue.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bento.bundle import ServingBundle
from training.candidates.content import ContentIndex
from training.index.faiss_index import ItemIndex
from training.index.publish import current

log = logging.getLogger(__name__)


class LiveIndexWatcher:
    def __init__(self, bundle: ServingBundle, root: Path) -> None:
        self.bundle, self.root = bundle, root
        self.loaded: str | None = None  # the build directory now served, if any
        self.swaps = 0

    def poll(self) -> bool:
        """Swap in a newer published build for this model version; True if one was swapped."""
        published = current(self.root, self.bundle.model_version)
        if published is None:
            return False
        directory, _ = published
        if str(directory) == self.loaded:
            return False
        index = ItemIndex.load(directory / "items")
        content = ContentIndex.load(directory / "content") if (directory / "content").exists() else None
        readded = self.bundle.swap_indices(index, content)
        self.loaded, self.swaps = str(directory), self.swaps + 1
        log.info("serving rebuilt index %s (%d items; %d API items re-added)", directory, index.size, readded)
        return True

    def run(self, stop: threading.Event, interval_s: float) -> None:
        while not stop.wait(interval_s):
            try:
                self.poll()
            except Exception:  # a bad build must not take serving down: keep the current index
                log.exception("could not swap in the rebuilt index under %s", self.root)


def watch_live_index(
    bundle: ServingBundle, root: Path, interval_s: float
) -> tuple[LiveIndexWatcher, threading.Event]:
    """Poll once now (a restart picks up the latest build at once), then every ``interval_s``."""
    watcher, stop = LiveIndexWatcher(bundle, root), threading.Event()
    try:
        watcher.poll()
    except Exception:
        log.exception("could not load the rebuilt index under %s; serving the bundle's", root)
    threading.Thread(target=watcher.run, args=(stop, interval_s), name="live_index", daemon=True).start()
    return watcher, stop

"""The non-embedding retrieval sources a bundle carries: content, co-interaction, collaborative
neighbours (item kNN), ALS factors, trending, editorial.

Each is precomputed by its Dagster asset (``orchestration/defs/candidate_generation``) into the
bundle's ``candidates/`` folder and answers a request with a dictionary or list lookup. A bundle
built before a source existed simply lacks it: the funnel then skips that source, never fails.
Trending is also refreshed hourly outside the bundle (``$RECO_HOME/artifacts/live_candidates``);
the newer of the two lists wins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pandas as pd

from training.candidates.als import ALS_DIR, ALSFactors
from training.candidates.co_interaction import NEIGHBOURS_FILE, CoInteractionNeighbours
from training.candidates.content import ContentIndex
from training.candidates.cross_scores import CrossSources
from training.candidates.ease import EASE_FILE, EASENeighbours
from training.candidates.editorial import LISTS_FILE, EditorialLists
from training.candidates.item_knn import ITEM_KNN_FILE, ItemKNNNeighbours
from training.candidates.trending import TRENDING_FILE, TrendingLists

log = logging.getLogger(__name__)
CANDIDATES_DIR = "candidates"
LIVE_TRENDING_CHECK_S = 30.0  # how often a request may look for a fresher hourly trending list
T = TypeVar("T")


def _optional(path: Path, load: Callable[[Path], T]) -> T | None:
    if not path.exists():
        return None
    try:
        return load(path)
    except Exception:  # a broken optional source costs recall, not availability
        log.exception("could not load retrieval source %s; serving without it", path)
        return None


@dataclass
class RetrievalSources:
    content: ContentIndex | None = None
    co_interaction: CoInteractionNeighbours | None = None
    item_knn: ItemKNNNeighbours | None = None
    ease: EASENeighbours | None = None
    als: ALSFactors | None = None
    trending: TrendingLists | None = None
    editorial: EditorialLists | None = None
    live_trending_file: Path | None = None
    _live_mtime: float = 0.0
    _next_check: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, bundle_root: Path, live_trending_file: Path | None = None) -> RetrievalSources:
        folder = bundle_root / CANDIDATES_DIR
        return cls(
            content=_optional(folder / "content", ContentIndex.load),
            co_interaction=_optional(folder / NEIGHBOURS_FILE, CoInteractionNeighbours.load),
            item_knn=_optional(folder / ITEM_KNN_FILE, ItemKNNNeighbours.load),
            ease=_optional(folder / EASE_FILE, EASENeighbours.load),
            als=_optional(folder / ALS_DIR, ALSFactors.load),
            trending=_optional(folder / TRENDING_FILE, TrendingLists.load),
            editorial=_optional(folder / LISTS_FILE, EditorialLists.load),
            live_trending_file=live_trending_file,
        )

    def cross(self) -> CrossSources:
        """The sources whose scores are ranker features."""
        return CrossSources(self.co_interaction, self.content, self.item_knn, self.als, self.ease)

    def trending_lists(self) -> TrendingLists | None:
        """The bundle's trending lists, or the hourly refresh once one newer than them exists."""
        now = time.monotonic()
        path = self.live_trending_file
        if path is not None and now >= self._next_check:
            self._next_check = now + LIVE_TRENDING_CHECK_S
            mtime = path.stat().st_mtime if path.exists() else 0.0
            if mtime > self._live_mtime:
                fresh = _optional(path, TrendingLists.load)
                if fresh is not None and (self.trending is None or fresh.as_of > self.trending.as_of):
                    self.trending, self._live_mtime = fresh, mtime
        return self.trending

    def add_item(self, row: dict[str, object]) -> None:
        """A created or re-described item gets content neighbours now (caller holds the bundle lock)."""
        if self.content is not None:
            self.content.add_items(pd.DataFrame([row]))

    def remove_item(self, item_id: str) -> None:
        if self.content is not None:
            self.content.remove([item_id])

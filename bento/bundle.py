"""The serving bundle: every artifact one model version needs, loaded once at start-up."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bento.funnel.fusion import load_fusion_weights
from bento.sources import RetrievalSources
from training.candidates.content import ContentIndex
from training.candidates.cross_scores import latest_first
from training.index.faiss_index import ItemIndex
from training.light_ranker import WEIGHTS_FILE, LightRanker, load_light_ranker
from training.retrieval import SERVED_USER_EMBEDDINGS_FILE, USER_EMBEDDINGS_FILE

log = logging.getLogger(__name__)


@dataclass
class ServingBundle:
    """Read-only state of one model version (the ranker itself lives in the Ranker service)."""

    root: Path
    model_version: str
    features_as_of: datetime  # the batch snapshot this version's online features come from
    user_positions: dict[str, int]
    user_embeddings: np.ndarray
    item_positions: pd.Series  # item_id -> row of item_embeddings
    item_embeddings: np.ndarray
    index: ItemIndex | None  # None: its files were missing at load; the index sources are skipped
    catalogue: pd.DataFrame  # indexed by item_id
    history: dict[str, set[str]]  # everything each user engaged with: never served to them again
    recent: dict[str, list[str]]  # their latest engagements, newest first (what scores the
    # history-based sources: collaborative neighbours, co-interaction and content seeds)
    lists: dict[str, list[str]]
    segment_lists: dict[str, list[str]]
    light_ranker: LightRanker | None = None  # first stage; None: the full ranker scores everything
    sources: RetrievalSources = field(default_factory=RetrievalSources)
    # False when the ranker lost to retrieval order offline (``bundle.json`` "ranking"): the funnel
    # then serves retrieval order, never a page worse than its own candidates' order.
    ranker_enabled: bool = True
    # How much each collaborative signal counts in retrieval order (``funnel.fusion``; tuned per
    # bundle on its replay's held-out engagements); None: equally.
    fusion_weights: dict[str, float] | None = None
    availability: Callable[[], frozenset[str]] | None = None  # the filter store, when attached
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Items written through the catalogue API since load: re-added to a swapped-in rebuilt index
    # if the rebuild started before they arrived.
    _api_items: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, live_trending_file: Path | None = None) -> ServingBundle:
        retrieval = root / "retrieval"
        user_ids = json.loads((retrieval / "user_ids.json").read_text())
        item_ids = json.loads((retrieval / "item_ids.json").read_text())
        fallbacks = json.loads((root / "fallbacks.json").read_text())
        history = pd.read_parquet(root / "history.parquet")
        if "timestamp" not in history:  # bundles built before engagements carried their time
            history = history.assign(timestamp=pd.Timestamp(0, tz="UTC"))
        lineage = json.loads((root / "bundle.json").read_text())
        return cls(
            root=root,
            model_version=lineage["model_version"],
            features_as_of=datetime.fromisoformat(lineage["time_split"]["end"]),
            user_positions={u: i for i, u in enumerate(user_ids)},
            user_embeddings=np.load(_served_user_vectors(retrieval)),
            item_positions=pd.Series(np.arange(len(item_ids)), index=item_ids),
            item_embeddings=np.load(retrieval / "item_embeddings.npy"),
            index=_load_index(root / "index"),
            catalogue=pd.read_parquet(root / "catalogue.parquet").set_index("item_id"),
            history=history.groupby("user_id")["item_id"].agg(set).to_dict(),
            recent=latest_first(history),
            lists={k: v for k, v in fallbacks.items() if k != "segments"},
            segment_lists=fallbacks.get("segments", {}),
            light_ranker=(
                load_light_ranker(root / "ranker") if (root / "ranker" / WEIGHTS_FILE).exists() else None
            ),
            sources=RetrievalSources.load(root, live_trending_file),
            ranker_enabled=bool(lineage.get("ranking", {}).get("enabled", True)),
            fusion_weights=load_fusion_weights(root),
        )

    def user_vector(self, user_id: str) -> np.ndarray | None:
        pos = self.user_positions.get(user_id)
        return None if pos is None else self.user_embeddings[pos]

    def item_vectors(self, item_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of ``item_ids`` and a mask of which ones are known."""
        positions = self.item_positions.reindex(item_ids).to_numpy(dtype=float)
        known = ~np.isnan(positions)
        vectors = np.zeros((len(item_ids), self.item_embeddings.shape[1]), np.float32)
        vectors[known] = self.item_embeddings[positions[known].astype(int)]
        return vectors, known

    def titles(self, ids: list[str | None]) -> list[str | None]:
        """Each item's catalogue title (None for None, or an item the catalogue has no title for)."""
        if "title" not in self.catalogue or not ids:
            return [None] * len(ids)
        rows = self.catalogue.index.get_indexer([i if i is not None else "" for i in ids])
        titles = self.catalogue["title"].to_numpy()
        return [str(titles[r]) if r >= 0 and isinstance(titles[r], str) else None for r in rows.tolist()]

    def shown_attributes(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each item's catalogue ``category`` ("unknown" where there is none) and ``sponsored``
        flag, as a page shows them: one index lookup, no frame."""
        catalogue = self.catalogue
        if not len(catalogue):
            return np.full(len(ids), "unknown", dtype=object), np.zeros(len(ids), bool)
        rows = catalogue.index.get_indexer(ids)
        found = rows >= 0
        category = catalogue["category"].to_numpy()[rows]
        sponsored = catalogue["sponsored"].to_numpy()[rows]
        category = np.where(found & ~pd.isna(category), category, "unknown").astype(object)
        return category, np.where(found & ~pd.isna(sponsored), sponsored, False).astype(bool)

    def unavailable(self) -> frozenset[str]:
        if self.availability is not None:
            return self.availability()
        return frozenset(self.catalogue.index[~self.catalogue["in_stock"].astype(bool)])

    def search(self, queries: np.ndarray, k: int) -> tuple[list[list[str]], np.ndarray]:
        with self._lock:  # FAISS indices are not safe to search while another thread adds
            if self.index is None:
                raise IndexUnavailableError("the bundle's item index did not load")
            return self.index.search(queries, k)

    def put_item(self, item_id: str, attributes: dict[str, object], vector: np.ndarray) -> None:
        """Make a created or changed item servable now: catalogue row, embedding, index entry."""
        with self._lock:
            self.catalogue.loc[item_id, list(attributes)] = list(attributes.values())
            position = self.item_positions.get(item_id)
            if position is None:
                self.item_positions.loc[item_id] = len(self.item_embeddings)
                self.item_embeddings = np.vstack([self.item_embeddings, vector[None, :]])
            else:
                self.item_embeddings[int(position)] = vector
            if self.index is not None:  # else the next swapped-in rebuild carries it (_api_items)
                self.index.add([item_id], vector[None, :])
            self.sources.add_item({"item_id": item_id, **attributes})
            self._api_items[item_id] = vector

    def swap_indices(self, index: ItemIndex, content: ContentIndex | None) -> int:
        """Serve a rebuilt item index (and content index) from now on; returns the API-written
        items re-added because the rebuild predates them."""
        with self._lock:
            missing = [item for item in self._api_items if item not in index]
            if missing:
                index.add(missing, np.stack([self._api_items[item] for item in missing]))
            if content is not None:
                rows = [{"item_id": i, **self.catalogue.loc[i].to_dict()} for i in missing]
                if rows:
                    content.add_items(pd.DataFrame(rows))
                self.sources.content = content
            self.index = index
            return len(missing)

    def forget_user(self, user_id: str) -> bool:
        """Erase the user's history and embedding from memory (they are served as a new user)."""
        with self._lock:
            had_history = self.history.pop(user_id, None) is not None
            self.recent.pop(user_id, None)
            position = self.user_positions.pop(user_id, None)
            if position is not None:
                self.user_embeddings[position] = 0.0
        return had_history or position is not None

    def drop_item(self, item_id: str) -> None:
        with self._lock:
            if self.index is not None:
                self.index.remove([item_id])
            self.sources.remove_item(item_id)
            self._api_items.pop(item_id, None)


class IndexUnavailableError(RuntimeError):
    """The item index is not loaded: the sources that search it are skipped."""


def _load_index(directory: Path) -> ItemIndex | None:
    """The bundle's FAISS index, or None when its files are missing or unreadable: the service
    still starts and serves from the other sources (and the next live index swaps one in)."""
    try:
        return ItemIndex.load(directory)
    except (OSError, RuntimeError, ValueError):
        log.exception("item index at %s did not load; serving without the two-tower sources", directory)
        return None


def _served_user_vectors(retrieval: Path) -> Path:
    """Vectors re-embedded with all events when the bundle has them, else the cut's."""
    served = retrieval / SERVED_USER_EMBEDDINGS_FILE
    return served if served.exists() else retrieval / USER_EMBEDDINGS_FILE

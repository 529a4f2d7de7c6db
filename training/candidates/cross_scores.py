"""Each item-to-item source's score for a list of candidates: cross features for the ranker.

The ranker should know not only that an item was retrieved but how strongly each source vouches
for it. Training (the `ranking/training_set` asset) and serving (the funnel) both call
:func:`source_scores` with the same history (:func:`recent_items`: the session newest first, then
past engagements newest first), so the features mean the same thing offline and online.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from contracts.funnel_config import HistoryConfig
from training.candidates.als import ALSFactors
from training.candidates.co_interaction import CoInteractionNeighbours
from training.candidates.content import ContentIndex
from training.candidates.ease import EASENeighbours
from training.candidates.item_knn import ItemKNNNeighbours

CO_INTERACTION_SCORE: Final = "co_interaction_score"
CONTENT_SIMILARITY: Final = "content_similarity"
ITEM_KNN_SCORE: Final = "item_knn_score"
ALS_SCORE: Final = "als_score"
EASE_SCORE: Final = "ease_score"
CROSS_SCORES: Final = (CO_INTERACTION_SCORE, CONTENT_SIMILARITY, ITEM_KNN_SCORE, ALS_SCORE, EASE_SCORE)


def recent_items(session_items: Sequence[str], history: Sequence[str], limit: int) -> list[str]:
    """Session items newest first, then the user's history newest first, up to ``limit``.

    ``history`` must already be ordered newest first (``latest_first``): the item-to-item sources
    are seeded with what the user did last, not with whatever a set happens to yield first.
    """
    ordered = list(dict.fromkeys(reversed(list(session_items))))
    taken = set(ordered)
    for item in history:
        if len(ordered) >= limit:
            break
        if item not in taken:
            ordered.append(item)
            taken.add(item)
    return ordered[:limit]


def latest_first(positives: pd.DataFrame, limit: int | None = None) -> dict[str, list[str]]:
    """Each user's distinct engaged items, most recent engagement first (``user_id, item_id,
    timestamp`` rows); at most ``limit`` per user."""
    if positives.empty:
        return {}
    frame = positives[["user_id", "item_id", "timestamp"]].sort_values(
        ["user_id", "timestamp", "item_id"], ascending=[True, False, True], kind="stable"
    )
    frame = frame.drop_duplicates(["user_id", "item_id"], keep="first")
    if limit is not None:
        frame = frame[frame.groupby("user_id", sort=False).cumcount() < limit]
    return {str(u): g.tolist() for u, g in frame.groupby("user_id", sort=False)["item_id"]}


@dataclass(frozen=True)
class CrossSources:
    """The sources whose scores become ranker features (any may be absent: its feature is 0)."""

    co_interaction: CoInteractionNeighbours | None = None
    content: ContentIndex | None = None
    item_knn: ItemKNNNeighbours | None = None
    als: ALSFactors | None = None
    ease: EASENeighbours | None = None


def source_scores(
    sources: CrossSources, history: Sequence[str], candidates: Sequence[str], seed_items: int
) -> dict[str, np.ndarray]:
    """Each cross score per candidate; 0 where a source is absent or does not reach it.

    ``history`` is ``recent_items(session, past, history_items)``: its first ``seed_items`` seed
    the co-interaction and content neighbours, all of it scores the collaborative neighbours and
    folds into the ALS user vector (``HistoryConfig``).
    """
    seeds = list(history[:seed_items])
    out: dict[str, np.ndarray] = {}
    for name, source in (
        (CO_INTERACTION_SCORE, sources.co_interaction),
        (CONTENT_SIMILARITY, sources.content),
    ):
        reached = source.scores(seeds) if source is not None and seeds else {}
        out[name] = np.fromiter((reached.get(c, 0.0) for c in candidates), np.float64, len(candidates))
    collaborative = ((ITEM_KNN_SCORE, sources.item_knn), (ALS_SCORE, sources.als), (EASE_SCORE, sources.ease))
    for name, model in collaborative:
        out[name] = (
            model.scores_of(history, candidates)
            if model is not None and len(history)
            else np.zeros(len(candidates))
        )
    return out


def row_source_scores(
    sources: CrossSources,
    user_ids: Sequence[str],
    session_items: Sequence[Sequence[str] | None],
    item_ids: Sequence[str],
    history: Mapping[str, Sequence[str]],
    windows: HistoryConfig,
) -> dict[str, np.ndarray]:
    """:func:`source_scores` for labelled training rows, each with its own history (the row's
    session before it, then the user's past, newest first); rows sharing a history are scored
    together, so each distinct history is looked up once."""
    out = {name: np.zeros(len(item_ids)) for name in CROSS_SCORES}
    groups: dict[tuple[str, ...], list[int]] = {}
    for row, (user, session) in enumerate(zip(user_ids, session_items, strict=True)):
        past = history.get(user, ())
        key = tuple(recent_items(list(session if session is not None else []), past, windows.history_items))
        groups.setdefault(key, []).append(row)
    items = np.asarray(item_ids, dtype=object)
    for key, rows in groups.items():
        for name, values in source_scores(sources, key, items[rows].tolist(), windows.seed_items).items():
            out[name][rows] = values
    return out

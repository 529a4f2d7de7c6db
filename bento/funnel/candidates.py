"""Merging retrieval sources into one deduplicated candidate list (pure; no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from bento.funnel.candidate_set import Candidates
from bento.funnel.fusion import fuse

# When a candidate comes from several sources, the reason shown names the most personal one.
SOURCE_PRIORITY: tuple[str, ...] = (
    "related",
    "collaborative",
    "session",
    "item_knn",
    "ease",
    "als",
    "editorial",
    "co_interaction",
    "content",
    "segment",
    "trending",
    "popular",
    "new_arrival",
)


def merge(sources: Mapping[str, Sequence[str]], excluded: Iterable[str] = ()) -> Candidates:
    """Union of the sources' item lists, deduplicated, minus ``excluded``: one row per item with
    ``source`` (highest-priority source that proposed it) and ``source_rank`` (its rank in that
    source), in source-priority then rank order."""
    blocked = excluded if isinstance(excluded, set | frozenset) else set(excluded)
    seen: dict[str, tuple[int, str, int]] = {}
    order = {name: i for i, name in enumerate(SOURCE_PRIORITY)}
    for name, items in sources.items():
        priority = order.get(name, len(order))
        for rank, item in enumerate(items):
            if item in blocked:
                continue
            best = seen.get(item)
            if best is None or (priority, rank) < (best[0], best[2]):
                seen[item] = (priority, name, rank)
    rows = sorted(seen.items(), key=lambda kv: (kv[1][0], kv[1][2]))
    return Candidates.of(
        [item for item, _ in rows], [meta[1] for _, meta in rows], [meta[2] for _, meta in rows]
    )


def merge_sources(sources: Mapping[str, Sequence[str]], excluded: Iterable[str] = ()) -> pd.DataFrame:
    """``merge`` as a DataFrame (``item_id``, ``source``, ``source_rank``)."""
    return merge(sources, excluded).frame()


def fused_retrieval_score(signals: Sequence[np.ndarray]) -> np.ndarray:
    """Retrieval order without a ranker: each candidate's mean z-score over the signals that score
    anything in this request, equally weighted, in (0, 1) (``fusion.fuse``)."""
    return fuse(signals)


def affinity(query: np.ndarray | None, item_vectors: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Dot product of the query with each candidate's embedding; 0 where either is unknown."""
    scores = np.zeros(len(known), dtype=np.float32)
    if query is not None and known.any():
        scores[known] = item_vectors[known] @ query
    return scores

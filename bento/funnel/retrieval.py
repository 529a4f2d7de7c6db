"""Retrieval: every source's candidate list for one request, before the merge.

Two-tower search (collaborative, and the last session item's neighbours), collaborative item
neighbours of the user's history (item kNN and EASE), ALS factors with the history folded in, content and
co-interaction neighbours of their recent items, trending in the user's categories, the user's
segment list, editorial pins and new arrivals. Each source has its own count (the surface's,
shifted by cold start) and a missing source is skipped, never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bento.bundle import ServingBundle
from bento.funnel.candidate_set import Candidates
from bento.funnel.candidates import affinity, merge
from bento.funnel.fusion import FUSED_SIGNALS, fuse, signal_weights
from contracts.funnel_config import HistoryConfig
from training.candidates.cross_scores import source_scores

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrievalContext:
    """What the sources need to know about the request (pure data, built by the funnel)."""

    surface: str
    query: np.ndarray | None  # the user embedding, pulled towards the live session
    session_items: Sequence[str]  # the live session's items, most recent first
    recent_items: Sequence[str]  # the newest of ``history``: seeds of co-interaction and content
    history: Sequence[str]  # newest first: the session, then past engagements (collaborative)
    categories: Sequence[str]  # the user's top categories, most engaged first
    segment: str


def _search(
    bundle: ServingBundle, query: np.ndarray, count: int, excluded: set[str], overfetch: int
) -> list[str]:
    """``count`` index neighbours the user may be shown: it looks further for the excluded ones
    (a long history would otherwise empty the list), up to ``overfetch`` times ``count``."""
    found = bundle.search(query, count + min(len(excluded), overfetch * count))[0][0]
    return [item for item in found if item not in excluded][:count]


def gather_sources(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    overfetch: int,
    failed: list[str] | None = None,
) -> dict[str, list[str]]:
    """Every source's list. A source that raises (a missing or broken index, say) is logged and
    left out, its name appended to ``failed``: the others still answer (design part 9, failure 1)."""
    sources: dict[str, list[str]] = {}
    extra = bundle.sources

    def take(name: str, read: Callable[[], list[str]]) -> None:
        try:
            sources[name] = read()
        except Exception:
            log.exception("candidate source %s unavailable", name)
            if failed is not None:
                failed.append(name)

    query = ctx.query
    if query is not None and counts.get("collaborative"):
        take(
            "collaborative",
            lambda: _search(bundle, query[None, :], counts["collaborative"], excluded, overfetch),
        )
    if ctx.session_items and counts.get("session"):
        vector, known = bundle.item_vectors(list(ctx.session_items[:1]))
        if known[0]:
            take("session", lambda: _search(bundle, vector, counts["session"], excluded, overfetch))
    co_interaction, item_knn, ease, als = extra.co_interaction, extra.item_knn, extra.ease, extra.als
    content, editorial = extra.content, extra.editorial
    if ctx.recent_items and co_interaction is not None and counts.get("co_interaction"):
        take(
            "co_interaction",
            lambda: co_interaction.for_items(ctx.recent_items, counts["co_interaction"], exclude=excluded),
        )
    if ctx.history and item_knn is not None and counts.get("item_knn"):
        take("item_knn", lambda: item_knn.top(ctx.history, counts["item_knn"], exclude=excluded))
    if ctx.history and ease is not None and counts.get("ease"):
        take("ease", lambda: ease.top(ctx.history, counts["ease"], exclude=excluded))
    if ctx.history and als is not None and counts.get("als"):
        take("als", lambda: als.top(ctx.history, counts["als"], exclude=excluded))
    if ctx.recent_items and content is not None and counts.get("content"):
        take("content", lambda: content.similar(ctx.recent_items, counts["content"], exclude=excluded))
    if editorial is not None and counts.get("editorial"):
        take("editorial", lambda: editorial.pinned(ctx.surface)[: counts["editorial"]])
    sources["segment"] = list(bundle.segment_lists.get(ctx.segment, []))[: counts.get("segment", 0)]

    def trending() -> list[str]:
        lists = extra.trending_lists()
        if lists is None:
            return bundle.lists.get("trending", [])[: counts.get("trending", 0)]
        return lists.top(counts.get("trending", 0), ctx.categories)

    take("trending", trending)
    sources["popular"] = bundle.lists.get("popular", [])[: counts.get("popular", 0)]
    sources["new_arrival"] = (
        editorial.new_arrivals(counts.get("new_arrivals", 0), ctx.categories)
        if editorial is not None
        else bundle.lists.get("new_arrivals", [])[: counts.get("new_arrivals", 0)]
    )
    return sources


def retrieve(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    max_candidates: int,
    windows: HistoryConfig,
    failed: list[str] | None = None,
) -> Candidates:
    """The retrieval stage: every source, merged and capped, with each candidate's retrieval
    scores (two-tower ``retrieval_score``, the cross scores of ``ctx.history``, ``fused_score``).

    One function for the service and the offline replay, so the ranker learns, and is measured,
    on the candidate lists serving hands it. ``failed`` collects the sources that raised.
    """
    sources = gather_sources(bundle, ctx, counts, excluded, windows.overfetch, failed)
    cands = merge(sources, excluded).take(slice(0, max_candidates))
    ids = cands.ids()
    cands["retrieval_score"] = affinity(ctx.query, *bundle.item_vectors(ids))
    for name, values in source_scores(bundle.sources.cross(), ctx.history, ids, windows.seed_items).items():
        cands[name] = values
    signals = [cands[name] for name in FUSED_SIGNALS]
    cands["fused_score"] = fuse(signals, signal_weights(bundle.fusion_weights))
    return cands


def retrieve_candidates(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    max_candidates: int,
    windows: HistoryConfig,
    failed: list[str] | None = None,
) -> pd.DataFrame:
    """``retrieve`` as a DataFrame: ``item_id``, ``source``, ``source_rank``, ``retrieval_score``,
    the cross scores and ``fused_score`` (what the offline replay reads)."""
    return retrieve(bundle, ctx, counts, excluded, max_candidates, windows, failed).frame()


def related_sources(bundle: ServingBundle, anchor: str, neighbours: int) -> dict[str, list[str]]:
    """Items like ``anchor``: its embedding neighbours, then its collaborative, co-interaction and
    content neighbours."""
    vector, known = bundle.item_vectors([anchor])
    sources = {"related": bundle.search(vector[:1], neighbours)[0][0] if known[0] else []}
    extra = bundle.sources
    if extra.item_knn is not None:
        sources["item_knn"] = extra.item_knn.neighbours(anchor, neighbours)
    if extra.ease is not None:
        sources["ease"] = extra.ease.neighbours(anchor, neighbours)
    if extra.co_interaction is not None:
        sources["co_interaction"] = extra.co_interaction.neighbours(anchor, neighbours)
    if extra.content is not None:
        sources["content"] = extra.content.neighbours(anchor, neighbours)
    sources["popular"] = bundle.lists.get("popular", [])[:50]
    return sources

"""Retrieval: every source's candidate list for one request, before the merge.

Two-tower search (collaborative, and the last session item's neighbours), collaborative item
neighbours of the user's history (item kNN and EASE), ALS factors with the history folded in,
content and co-interaction neighbours of their recent items (these run in parallel when serving,
each within its budget), trending in the user's categories, the user's segment list, editorial
pins and new arrivals. Each source has its own count (the surface's, shifted by cold start); a
missing, failing or late source is skipped and named, never an error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bento.bundle import ServingBundle
from bento.funnel.budget import Budgets, Gathered
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


def session_query(base: np.ndarray | None, session: np.ndarray, pull: float) -> np.ndarray | None:
    """The two-tower query: the user's embedding (``base``) pulled by ``pull`` towards the mean of
    the live session's item vectors (intent shift); the session alone for a user not embedded."""
    if not len(session):
        return base
    mean = session.mean(axis=0)
    query = mean if base is None else (1 - pull) * base + pull * mean
    return (query / max(float(np.linalg.norm(query)), 1e-9)).astype(np.float32)


def _search(
    bundle: ServingBundle, query: np.ndarray, count: int, excluded: set[str], overfetch: int
) -> list[str]:
    """``count`` index neighbours the user may be shown: it looks further for the excluded ones
    (a long history would otherwise empty the list), up to ``overfetch`` times ``count``."""
    found = bundle.search(query, count + min(len(excluded), overfetch * count))[0][0]
    return [item for item in found if item not in excluded][:count]


@dataclass(frozen=True)
class SourceCalls:
    """How the index and collaborative sources run: serving runs them in parallel, each within its
    budget (``budgets`` enforced, ``budget_ms`` by source name); offline, one after the other."""

    budgets: Budgets = field(default_factory=lambda: Budgets(enforced=False))
    budget_ms: Callable[[str], float] = lambda _: math.inf


INLINE = SourceCalls()


def gather_sources(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    overfetch: int,
    calls: SourceCalls = INLINE,
) -> Gathered[list[str]]:
    """Every source's list, in a fixed order. A source that raises (a missing or broken index,
    say) is logged and named in ``failed``, one past its budget in ``late``: the others still
    answer (design part 9, failure 1). The list sources held in memory always answer."""
    jobs: dict[str, Callable[[], list[str]]] = {}
    extra = bundle.sources
    query = ctx.query
    if query is not None and counts.get("collaborative"):
        jobs["collaborative"] = lambda: _search(
            bundle, query[None, :], counts["collaborative"], excluded, overfetch
        )
    if ctx.session_items and counts.get("session"):

        def session() -> list[str]:
            vector, known = bundle.item_vectors(list(ctx.session_items[:1]))
            return _search(bundle, vector, counts["session"], excluded, overfetch) if known[0] else []

        jobs["session"] = session
    co_interaction, item_knn, ease, als = extra.co_interaction, extra.item_knn, extra.ease, extra.als
    content, editorial = extra.content, extra.editorial
    if ctx.recent_items and co_interaction is not None and counts.get("co_interaction"):
        jobs["co_interaction"] = lambda: co_interaction.for_items(
            ctx.recent_items, counts["co_interaction"], exclude=excluded
        )
    if ctx.history and item_knn is not None and counts.get("item_knn"):
        jobs["item_knn"] = lambda: item_knn.top(ctx.history, counts["item_knn"], exclude=excluded)
    if ctx.history and ease is not None and counts.get("ease"):
        jobs["ease"] = lambda: ease.top(ctx.history, counts["ease"], exclude=excluded)
    if ctx.history and als is not None and counts.get("als"):
        jobs["als"] = lambda: als.top(ctx.history, counts["als"], exclude=excluded)
    if ctx.recent_items and content is not None and counts.get("content"):
        jobs["content"] = lambda: content.similar(ctx.recent_items, counts["content"], exclude=excluded)
    gathered = calls.budgets.gather({name: (calls.budget_ms(name), job) for name, job in jobs.items()})

    def trending() -> list[str]:
        lists = extra.trending_lists()
        if lists is None:
            return bundle.lists.get("trending", [])[: counts.get("trending", 0)]
        return lists.top(counts.get("trending", 0), ctx.categories)

    listed: dict[str, Callable[[], list[str]]] = {"trending": trending}  # in memory: inline
    if editorial is not None and counts.get("editorial"):
        listed["editorial"] = lambda: editorial.pinned(ctx.surface)[: counts["editorial"]]
    inline = INLINE.budgets.gather({name: (math.inf, read) for name, read in listed.items()})
    gathered.failed += inline.failed
    sources = dict(gathered.answers)  # the merge's order: the index and collaborative sources first
    if "editorial" in inline.answers:
        sources["editorial"] = inline.answers["editorial"]
    sources["segment"] = list(bundle.segment_lists.get(ctx.segment, []))[: counts.get("segment", 0)]
    if "trending" in inline.answers:
        sources["trending"] = inline.answers["trending"]
    sources["popular"] = bundle.lists.get("popular", [])[: counts.get("popular", 0)]
    sources["new_arrival"] = (
        editorial.new_arrivals(counts.get("new_arrivals", 0), ctx.categories)
        if editorial is not None
        else bundle.lists.get("new_arrivals", [])[: counts.get("new_arrivals", 0)]
    )
    gathered.answers = sources
    return gathered


def retrieve(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    max_candidates: int,
    windows: HistoryConfig,
    calls: SourceCalls = INLINE,
) -> tuple[Candidates, Gathered[list[str]]]:
    """The retrieval stage: every source, merged and capped, with each candidate's retrieval
    scores (two-tower ``retrieval_score``, the cross scores of ``ctx.history``, ``fused_score``),
    and which sources failed or ran late.

    One function for the service and the offline replay, so the ranker learns, and is measured,
    on the candidate lists serving hands it.
    """
    gathered = gather_sources(bundle, ctx, counts, excluded, windows.overfetch, calls)
    cands = merge(gathered.answers, excluded).take(slice(0, max_candidates))
    ids = cands.ids()
    cands["retrieval_score"] = affinity(ctx.query, *bundle.item_vectors(ids))
    for name, values in source_scores(bundle.sources.cross(), ctx.history, ids, windows.seed_items).items():
        cands[name] = values
    signals = [cands[name] for name in FUSED_SIGNALS]
    cands["fused_score"] = fuse(signals, signal_weights(bundle.fusion_weights))
    return cands, gathered


def retrieve_candidates(
    bundle: ServingBundle,
    ctx: RetrievalContext,
    counts: dict[str, int],
    excluded: set[str],
    max_candidates: int,
    windows: HistoryConfig,
) -> pd.DataFrame:
    """``retrieve`` as a DataFrame: ``item_id``, ``source``, ``source_rank``, ``retrieval_score``,
    the cross scores and ``fused_score`` (what the offline replay reads)."""
    return retrieve(bundle, ctx, counts, excluded, max_candidates, windows)[0].frame()


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

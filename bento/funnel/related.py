"""The related-items surface: items like an anchor item, ordered by fused similarity (never by a
ranker), re-ranked by the surface's rules, with the asking user's blocks applied."""

from __future__ import annotations

import logging

from bento.bundle import ServingBundle
from bento.controls.store import UserControls
from bento.funnel.candidates import affinity, fused_retrieval_score, merge
from bento.funnel.lower_levels import LowerLevels
from bento.funnel.rerank import diversify_page
from bento.funnel.result import FunnelResult
from bento.funnel.retrieval import related_sources
from bento.funnel.user_controls import without_blocked_categories
from contracts.api import RelatedRequest
from contracts.funnel_config import FunnelConfig
from contracts.slis import FUNNEL_ERROR
from training.candidates.cross_scores import (
    CO_INTERACTION_SCORE,
    CONTENT_SIMILARITY,
    EASE_SCORE,
    ITEM_KNN_SCORE,
    source_scores,
)

log = logging.getLogger(__name__)
RELATED_LEVEL = 1  # the related surface is ordered by fused similarity, never by a ranker
# similarity to an item
RELATED_SIGNALS = (CONTENT_SIMILARITY, CO_INTERACTION_SCORE, ITEM_KNN_SCORE, EASE_SCORE)


def related_result(
    bundle: ServingBundle,
    config: FunnelConfig,
    lower: LowerLevels,
    request: RelatedRequest,
    controls: UserControls,
) -> FunnelResult:
    anchor = request.item_id
    vectors, known = bundle.item_vectors([anchor])
    excluded = {anchor} | bundle.unavailable() | controls.items
    try:
        sources = related_sources(bundle, anchor, config.related.neighbours)
        cands = merge(sources, excluded)
        ids = cands.ids()
        anchor_vector = vectors[0] if known[0] else None
        cands["retrieval_score"] = affinity(anchor_vector, *bundle.item_vectors(ids))
        # Each neighbour source's similarity to the anchor, fused by rank: the content and
        # collaborative lists carry an item the two-tower barely knows (one written today).
        near = source_scores(bundle.sources.cross(), [anchor], ids, seed_items=1)
        signals = [cands["retrieval_score"], *(near[name] for name in RELATED_SIGNALS)]
        cands["score"] = fused_retrieval_score(signals)
        cands["category"], cands["sponsored"] = bundle.shown_attributes(cands.ids())
        cands = without_blocked_categories(cands, controls)
        page = diversify_page(cands, config.surface("related_items").rules, request.page_size)
        return FunnelResult(page, len(cands), 0, RELATED_LEVEL, None)
    except Exception as error:
        log.exception("related failed for %s", anchor)
        return lower.lists(None, request.page_size, str(error), excluded, controls, FUNNEL_ERROR)

"""Reasons that name their anchor: "Because you engaged with <title>" for an item a personal source
proposed (the user's recent item it is most like: an explanation the user can check), "Trending in
<category>" for a trending one; editorial, new arrivals, segment and popular keep their words.
Only the page's items are anchored (tens of dot products, after re-ranking); the similarity is the
two-tower item embeddings', the one measure every catalogue item has."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bento.bundle import ServingBundle
from bento.funnel.rerank import REASONS
from contracts.api import RecommendedItem

ANCHORED_SOURCES = frozenset(
    {"collaborative", "als", "session", "co_interaction", "content", "item_knn", "ease"}
)
UNKNOWN_CATEGORY = "unknown"


def nearest_seeds(
    items: np.ndarray, known: np.ndarray, seeds: np.ndarray, seeds_known: np.ndarray
) -> np.ndarray:
    """For each item vector, the index of the most similar seed vector (cosine); -1 where the
    item or every seed is unknown to the embedding."""
    out = np.full(len(items), -1, dtype=np.int64)
    if not len(items) or not seeds_known.any():
        return out
    unit = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-9)
    seed_unit = seeds / np.maximum(np.linalg.norm(seeds, axis=1, keepdims=True), 1e-9)
    similarity = unit @ seed_unit.T
    similarity[:, ~seeds_known] = -np.inf
    return np.where(known, similarity.argmax(axis=1), -1)


def anchored(
    page: Sequence[RecommendedItem], anchors: Sequence[str | None], titles: Sequence[str | None]
) -> list[RecommendedItem]:
    """``page`` with each item's reason naming its anchor (``anchors[i]``, titled ``titles[i]``)
    where its source is personal, its category where it is trending; others keep theirs."""
    out = []
    for item, anchor, title in zip(page, anchors, titles, strict=True):
        if item.source in ANCHORED_SOURCES and anchor is not None:
            words = f"Because you engaged with {title or anchor}"
            out.append(item.model_copy(update={"reason": words, "anchor_item_id": anchor}))
        elif item.source == "trending" and item.category and item.category != UNKNOWN_CATEGORY:
            out.append(item.model_copy(update={"reason": f"Trending in {item.category}"}))
        else:
            out.append(item if item.reason else item.model_copy(update={"reason": REASONS["popular"]}))
    return out


def anchor_page(
    bundle: ServingBundle, page: Sequence[RecommendedItem], seeds: Sequence[str]
) -> list[RecommendedItem]:
    """``anchored`` with each item's anchor the one of ``seeds`` (the user's newest items) it is
    most like, titled from the catalogue."""
    seeds = list(dict.fromkeys(seeds))
    if not seeds or not page:
        return anchored(page, [None] * len(page), [None] * len(page))
    vectors, known = bundle.item_vectors([item.item_id for item in page])
    seed_vectors, seeds_known = bundle.item_vectors(seeds)
    nearest = nearest_seeds(vectors, known, seed_vectors, seeds_known)
    anchors = [seeds[n] if n >= 0 else None for n in nearest.tolist()]
    return anchored(page, anchors, bundle.titles(anchors))

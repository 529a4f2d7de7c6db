"""A user's controls applied to a request (pure): blocked categories out of the candidates and the
fallback lists, and whether a cached page may still be shown. The item blocks join the request's
excluded set like the items the user engaged with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from bento.controls.store import UserControls
from bento.funnel.candidate_set import Candidates
from contracts.api import RecommendedItem

CategoriesOf = Callable[[list[str]], np.ndarray]  # item ids -> their categories


def without_blocked_categories(cands: Candidates, controls: UserControls) -> Candidates:
    """``cands`` (with ``category``) less those in a category the user blocked."""
    if not controls.categories:
        return cands
    keep = ~np.isin(cands["category"].astype(str), list(controls.categories))
    return cands if keep.all() else cands.take(np.flatnonzero(keep))


def in_blocked_categories(
    items: Sequence[str], controls: UserControls, categories_of: CategoriesOf
) -> set[str]:
    """The ones of ``items`` in a category the user blocked (to exclude them from a fallback list)."""
    if not controls.categories or not items:
        return set()
    categories = categories_of(list(items)).astype(str)
    return {item for item, category in zip(items, categories, strict=True) if category in controls.categories}


def page_allowed(page: Iterable[RecommendedItem], controls: UserControls) -> bool:
    """A cached page may be shown again only if nothing on it was blocked since."""
    if controls.empty:
        return True
    return not controls.opted_out and all(
        item.item_id not in controls.items and (item.category or "") not in controls.categories
        for item in page
    )

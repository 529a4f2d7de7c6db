"""Levels 2-4 of the fallback stack: the user's last good page (topped up from the lists), else
the segment list, else global popular; and the non-personalised page a user who turned
personalisation off gets. Never empty while the global list has an item the user may see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bento.bundle import ServingBundle
from bento.controls.store import UserControls
from bento.funnel.fallback import L2_LAST_GOOD_PAGE, fallback_items, list_page
from bento.funnel.last_good import LastGoodPages, renumbered
from bento.funnel.rerank import REASONS
from bento.funnel.result import FunnelResult
from bento.funnel.user_controls import in_blocked_categories
from contracts.api import RecommendRequest


@dataclass
class LowerLevels:
    bundle: ServingBundle
    last_good: LastGoodPages

    def answer(
        self,
        request: RecommendRequest,
        segment: str | None,
        blocked: set[str],
        controls: UserControls,
        kind: str,
        reason: str,
    ) -> FunnelResult:
        """The last good page (topped up from the lists), else segment, else popular."""
        kept = self.last_good.page(request.user_id, request.surface, blocked, request.page_size)
        kept = [item for item in kept or [] if (item.category or "") not in controls.categories] or None
        if kept is None:
            return self.lists(segment, request.page_size, reason, blocked, controls, kind)
        if len(kept) < request.page_size:
            shown = blocked | {item.item_id for item in kept}
            more = self.lists(segment, request.page_size - len(kept), reason, shown, controls, kind).page
            kept = renumbered(kept + more)
        return FunnelResult(kept, len(kept), 0, L2_LAST_GOOD_PAGE, reason, kind)

    def lists(
        self,
        segment: str | None,
        page_size: int,
        reason: str | None,
        blocked: set[str],
        controls: UserControls,
        kind: str,
    ) -> FunnelResult:
        """Segment (L3), topped up from global popular (L4): no item blocked, none in a category
        the user blocked."""
        lists, segments = self.bundle.lists, self.bundle.segment_lists
        listed = [*segments.get(segment or "", ()), *lists.get("popular", ())]
        hidden = blocked | in_blocked_categories(listed, controls, self._categories)
        answer = fallback_items(lists, segments, segment, hidden, page_size)
        categories, sponsored = self.bundle.shown_attributes(list(answer.items))
        page = list_page(answer.items, categories.tolist(), sponsored.tolist(), REASONS["popular"])
        return FunnelResult(page, len(page), 0, answer.level, reason, kind)

    def _categories(self, items: list[str]) -> np.ndarray:
        return self.bundle.shown_attributes(items)[0]

"""One request's answer inside the funnel, before it becomes a response, and its cache key."""

from __future__ import annotations

from dataclasses import dataclass, field

from bento.funnel.last_good import Page
from contracts.api import RecommendRequest
from contracts.slis import REASON_NONE


@dataclass
class FunnelResult:
    page: Page
    retrieved: int
    scored: int
    level: int
    reason: str | None  # free text, in the response
    kind: str = REASON_NONE  # the reason's bounded kind (contracts.slis), the /metrics label
    stage_ms: dict[str, float] = field(default_factory=dict)  # this request's time per funnel stage


def result_key(request: RecommendRequest) -> tuple[str, str, int, str]:
    """What a cached response is keyed by: the user first, so their events can drop their entries."""
    return (request.user_id, request.surface, request.page_size, request.context.model_dump_json())

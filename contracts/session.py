"""Session state: the same fold serves the live push path and the offline training rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.features import SESSION_DEFAULTS, SESSION_HISTORY_LENGTH
from contracts.schemas import POSITIVE_EVENT_WEIGHTS


def next_session_state(state: Mapping[str, Any] | None, event_type: str, item_id: str, category: str) -> dict:
    """Fold one event into a user's session features (pure; no I/O)."""
    current = dict(SESSION_DEFAULTS) if not state else {**SESSION_DEFAULTS, **state}
    items = list(current["session_item_ids"] or [])
    categories = list(current["session_categories"] or [])
    engaged = event_type in POSITIVE_EVENT_WEIGHTS
    if engaged:
        items = [*items, item_id][-SESSION_HISTORY_LENGTH:]
        categories = [*categories, category][-SESSION_HISTORY_LENGTH:]
    return {
        "session_item_ids": items,
        "session_categories": categories,
        "session_last_category": category if engaged else current["session_last_category"] or "",
        "session_clicks": int(current["session_clicks"] or 0) + int(event_type == "click"),
        "session_events": int(current["session_events"] or 0) + 1,
    }

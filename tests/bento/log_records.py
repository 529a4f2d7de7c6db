"""Event-log records for the log and consumer tests: distinct ids, items and times, three users."""

from __future__ import annotations

from typing import Any


def log_record(n: int, **overrides: object) -> dict[str, Any]:
    base = {
        "event_id": f"e{n}",
        "user_id": f"u{n % 3}",
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": f"2026-01-01T00:00:00.{n:06d}+00:00",
    }
    return {**base, **overrides}

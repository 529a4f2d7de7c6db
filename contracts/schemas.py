"""Table layouts every stage agrees on: the raw world on disk and the event vocabulary.

A "world" is a directory with ``users.parquet``, ``items.parquet`` and ``events/*.parquet``.
The demo generator and every dataset adapter write exactly this layout, so everything
downstream (Dagster assets, Feast sources, training) reads one format.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

EVENT_TYPES: Final = ("impression", "view", "click", "purchase", "skip", "dwell", "share")
SURFACES: Final = ("home_feed", "related_items", "notifications")
DEVICES: Final = ("mobile", "desktop", "tablet")

# How much an event says the user liked the item; used for implicit-feedback training.
POSITIVE_EVENT_WEIGHTS: Final[dict[str, float]] = {
    "click": 1.0,
    "view": 0.5,
    "dwell": 1.0,
    "share": 2.0,
    "purchase": 3.0,
}
NEGATIVE_EVENTS: Final = ("impression", "skip")

NO_POSITION: Final = -1
UNKNOWN: Final = "unknown"

USERS_SCHEMA: Final = pa.schema(
    [
        ("user_id", pa.string()),
        ("country", pa.string()),
        ("age_bucket", pa.string()),
        ("device", pa.string()),
        ("segment", pa.string()),
        ("signup_ts", pa.timestamp("us", tz="UTC")),
    ]
)

ITEMS_SCHEMA: Final = pa.schema(
    [
        ("item_id", pa.string()),
        ("category", pa.string()),
        ("brand", pa.string()),
        ("price", pa.float64()),
        ("title", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("in_stock", pa.bool_()),
        ("sponsored", pa.bool_()),
    ]
)

EVENTS_SCHEMA: Final = pa.schema(
    [
        ("event_id", pa.string()),
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("event_type", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("surface", pa.string()),
        ("position", pa.int32()),
        ("session_id", pa.string()),
        ("device", pa.string()),
        ("value", pa.float64()),
    ]
)

USERS_FILE: Final = "users.parquet"
ITEMS_FILE: Final = "items.parquet"
EVENTS_DIR: Final = "events"
MANIFEST_FILE: Final = "world.json"

"""Offline sources: Parquet files the batch feature assets write under ``$RECO_HOME/features``.

The session push source's batch side is the offline log of session features, so the same view can
be backfilled and served (Feast's push model).
"""

from pathlib import Path

from feast import FileSource, PushSource

from contracts.features import SESSION_PUSH_SOURCE
from contracts.settings import load_settings

FEATURES_DIR: Path = load_settings().paths.features
TIMESTAMP = "event_timestamp"


def _parquet(name: str) -> FileSource:
    return FileSource(
        name=f"{name}_source",
        path=str(FEATURES_DIR / f"{name}.parquet"),
        timestamp_field=TIMESTAMP,
        description=f"Batch features written by the `{name}` Dagster asset.",
    )


user_stats_source = _parquet("user_stats")
user_activity_source = _parquet("user_activity")
user_profile_source = _parquet("user_profile")
item_stats_source = _parquet("item_stats")
session_log_source = _parquet("session_log")

user_session_push = PushSource(
    name=SESSION_PUSH_SOURCE,
    batch_source=session_log_source,
    description="Session features pushed by the event ingestion path within a second of each event.",
)

"""Session features: pushed by the streaming consumer of the event log, read on every request, never
cached."""

from datetime import timedelta

from feast import FeatureView, Field
from feast.types import Array, Int64, String

from contracts.features import USER_SESSION_VIEW
from feature_repo.data_sources import user_session_push
from feature_repo.entities import user

SESSION_TTL = timedelta(hours=1)

user_session_fv = FeatureView(
    name=USER_SESSION_VIEW,
    entities=[user],
    ttl=SESSION_TTL,
    schema=[
        Field(name="session_item_ids", dtype=Array(String), description="Last items engaged."),
        Field(name="session_categories", dtype=Array(String), description="Their categories."),
        Field(name="session_last_category", dtype=String),
        Field(name="session_clicks", dtype=Int64),
        Field(name="session_events", dtype=Int64),
        Field(
            name="session_log_offset",
            dtype=Int64,
            description="Event-log offset of the last event folded in; replays below it are skipped.",
        ),
    ],
    online=True,
    source=user_session_push,
    tags={"stage": "features", "cadence": "streaming"},
)

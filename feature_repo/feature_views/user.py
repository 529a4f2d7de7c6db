"""User features: long-term behaviour (batch) and profile (batch)."""

from datetime import timedelta

from feast import FeatureView, Field
from feast.types import Array, Float32, Float64, Int64, String

from contracts.features import (
    ACTIVITY_WINDOW_DAYS,
    USER_ACTIVITY_VIEW,
    USER_PROFILE_VIEW,
    USER_STATS_VIEW,
    activity_feature,
)
from contracts.schemas import EVENT_TYPES
from feature_repo.data_sources import user_activity_source, user_profile_source, user_stats_source
from feature_repo.entities import user

# ttl=0: batch features age but never expire; a stalled pipeline serves old values with an alert.
NO_EXPIRY = timedelta(0)

user_stats_fv = FeatureView(
    name=USER_STATS_VIEW,
    entities=[user],
    ttl=NO_EXPIRY,
    schema=[
        Field(name="user_events_7d", dtype=Int64, description="Events in the last 7 days."),
        Field(name="user_clicks_30d", dtype=Int64, description="Clicks in the last 30 days."),
        Field(name="user_purchases_30d", dtype=Int64, description="Purchases in the last 30 days."),
        Field(name="user_ctr_30d", dtype=Float64, description="Clicks / impressions, smoothed."),
        Field(name="user_avg_price", dtype=Float64, description="Mean price of engaged items."),
        Field(name="user_price_p25", dtype=Float64, description="Low end of the usual price band."),
        Field(name="user_price_p75", dtype=Float64, description="High end of the usual price band."),
        Field(name="user_top_categories", dtype=Array(String), description="Top categories."),
        Field(name="user_top_category_shares", dtype=Array(Float32), description="Their shares."),
    ],
    online=True,
    source=user_stats_source,
    tags={"stage": "features", "cadence": "daily"},
)

user_activity_fv = FeatureView(
    name=USER_ACTIVITY_VIEW,
    entities=[user],
    ttl=NO_EXPIRY,
    schema=[
        Field(
            name=activity_feature(kind, days),
            dtype=Int64,
            description=f"{kind.capitalize()} events in the last {days} day(s).",
        )
        for kind in EVENT_TYPES
        for days in ACTIVITY_WINDOW_DAYS
    ],
    online=True,
    source=user_activity_source,
    tags={"stage": "features", "cadence": "daily"},
)

user_profile_fv = FeatureView(
    name=USER_PROFILE_VIEW,
    entities=[user],
    ttl=NO_EXPIRY,
    schema=[
        Field(name="country", dtype=String),
        Field(name="age_bucket", dtype=String),
        Field(name="device", dtype=String),
        Field(name="segment", dtype=String, description="Group used for segment fallback lists."),
    ],
    online=True,
    source=user_profile_source,
    tags={"stage": "features", "cadence": "daily"},
)

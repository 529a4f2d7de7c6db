"""Item features: popularity, engagement rates and catalogue attributes (batch)."""

from datetime import timedelta

from feast import FeatureView, Field
from feast.types import Bool, Float64, String

from contracts.features import ITEM_STATS_VIEW
from feature_repo.data_sources import item_stats_source
from feature_repo.entities import item

item_stats_fv = FeatureView(
    name=ITEM_STATS_VIEW,
    entities=[item],
    ttl=timedelta(0),
    schema=[
        Field(name="item_popularity", dtype=Float64, description="log1p(weighted engagements, 30d)."),
        Field(name="item_ctr", dtype=Float64, description="Clicks / impressions, smoothed."),
        Field(name="item_conversion", dtype=Float64, description="Purchases / clicks, smoothed."),
        Field(name="item_trending", dtype=Float64, description="Last-day share of 7-day engagement."),
        Field(name="item_price", dtype=Float64),
        Field(name="item_category", dtype=String),
        Field(name="item_brand", dtype=String),
        Field(name="item_created_ts", dtype=Float64, description="Creation time, epoch seconds."),
        Field(name="item_in_stock", dtype=Bool),
        Field(name="item_sponsored", dtype=Bool),
    ],
    online=True,
    source=item_stats_source,
    tags={"stage": "features", "cadence": "daily"},
)

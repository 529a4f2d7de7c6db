"""Great Expectations suites for the derived tables: batch features and the ranker's training set.

Feature tables feed Feast and, through it, both training and serving: a CTR above 1 or a
negative count there skews every model and every served score. The training set is what the
ranker learns from: a NaN or inf input, a label outside {0, 1} or an absurd positive rate
makes a model that looks trained but is not.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
import pyarrow as pa

from contracts.features import RANKER_INPUTS, USER_ACTIVITY_FEATURES
from contracts.schemas import DEVICES, SURFACES
from orchestration.defs.quality.config import QUALITY, QualityConfig
from orchestration.defs.quality.expect import (
    ALLOWED_AGE_BUCKETS,
    ALLOWED_DEVICES,
    between,
    not_null,
    schema_expectations,
)

_TS = pa.timestamp("us", tz="UTC")
COUNTS = ("user_events_7d", "user_clicks_30d", "user_purchases_30d")
USER_STATS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        *((c, pa.int64()) for c in COUNTS),
        ("user_ctr_30d", pa.float64()),
        ("user_avg_price", pa.float64()),
        ("user_price_p25", pa.float64()),
        ("user_price_p75", pa.float64()),
        ("user_top_categories", pa.list_(pa.string())),
        ("user_top_category_shares", pa.list_(pa.float64())),
        ("event_timestamp", _TS),
    ]
)
USER_ACTIVITY_SCHEMA = pa.schema(
    [("user_id", pa.string()), *((c, pa.int64()) for c in USER_ACTIVITY_FEATURES), ("event_timestamp", _TS)]
)
USER_PROFILE_SCHEMA = pa.schema(
    [(c, pa.string()) for c in ("user_id", "country", "age_bucket", "device", "segment")]
    + [("event_timestamp", _TS)]
)
ITEM_STATS_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        *((c, pa.float64()) for c in ("item_popularity", "item_ctr", "item_conversion", "item_trending")),
        ("item_price", pa.float64()),
        ("item_category", pa.string()),
        ("item_brand", pa.string()),
        ("item_created_ts", pa.float64()),
        ("item_in_stock", pa.bool_()),
        ("item_sponsored", pa.bool_()),
        ("event_timestamp", _TS),
    ]
)
# Ranker inputs that are shares, indicators or one-hots: anything outside [0, 1] is a bug upstream.
UNIT_INPUTS = (
    "user_ctr_30d",
    "item_ctr",
    "item_conversion",
    "item_sponsored",
    "category_affinity",
    "session_last_category_match",
    "session_category_share",
    *(f"device_{d}" for d in DEVICES),
)
TRAINING_EXTRA = ("label", "surface", "user_id", "item_id", "origin", "list_id", "sample_weight")
# a logged slate row, a replayed candidate pool row (label window), or one of the preference holdout
TRAINING_ORIGINS = ("impression", "replay", "preference")
TRAINING_SCHEMA = pa.schema(
    [(c, pa.float32()) for c in RANKER_INPUTS]
    + [("label", pa.int64()), ("surface", pa.string()), ("user_id", pa.string()), ("item_id", pa.string())]
    # list_id: the rows the listwise loss compares; sample_weight: a sampled row's inverse probability
    + [("origin", pa.string()), ("list_id", pa.string()), ("sample_weight", pa.float64())]
)


def _keyed(key: str, mostly: float) -> list[gxe.Expectation]:
    """One row per entity and snapshot: Feast's point-in-time join picks exactly one."""
    return [
        *not_null((key, "event_timestamp"), mostly=mostly),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[key, "event_timestamp"], mostly=mostly),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def user_stats_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    m = config.row_mostly
    return [
        *schema_expectations(USER_STATS_SCHEMA, mostly=m),
        *_keyed("user_id", m),
        *not_null((*COUNTS, "user_ctr_30d"), mostly=m),
        *between(COUNTS, 0, None, mostly=m, why="counts are never negative"),
        *between(["user_ctr_30d"], 0, config.max_rate, mostly=m, why="a click-through rate is a share"),
        *between(
            ["user_avg_price", "user_price_p25", "user_price_p75"],
            0,
            None,
            mostly=m,
            why="NaN = no priced engagement yet",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="user_price_p75",
            column_B="user_price_p25",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            mostly=m,
            meta={"why": "a price band's high end is not below its low end"},
        ),
    ]


def user_activity_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    m = config.row_mostly
    return [
        *schema_expectations(USER_ACTIVITY_SCHEMA, mostly=m),
        *_keyed("user_id", m),
        *not_null(USER_ACTIVITY_FEATURES, mostly=m),
        *between(USER_ACTIVITY_FEATURES, 0, None, mostly=m, why="counts are never negative"),
    ]


def user_profile_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    m = config.row_mostly
    return [
        *schema_expectations(USER_PROFILE_SCHEMA, mostly=m),
        *_keyed("user_id", m),
        gxe.ExpectColumnValuesToBeInSet(column="device", value_set=list(ALLOWED_DEVICES), mostly=m),
        gxe.ExpectColumnValuesToBeInSet(column="age_bucket", value_set=list(ALLOWED_AGE_BUCKETS), mostly=m),
    ]


def item_stats_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    m = config.row_mostly
    rates = ("item_ctr", "item_conversion")
    return [
        *schema_expectations(ITEM_STATS_SCHEMA, mostly=m),
        *_keyed("item_id", m),
        *not_null((*rates, "item_popularity", "item_trending", "item_created_ts"), mostly=m),
        *between(rates, 0, config.max_rate, mostly=m, why="click-through and conversion are shares"),
        *between(["item_popularity"], 0, None, mostly=m, why="log1p of a non-negative engagement"),
        *between(
            ["item_trending"],
            -config.ranker_input_abs_max,
            config.ranker_input_abs_max,
            mostly=m,
            why="finite",
        ),
        *between(["item_price"], 0, config.max_price, mostly=m, why="NaN = unknown price"),
    ]


def training_set_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    m = config.row_mostly
    bound = config.ranker_input_abs_max
    unbounded = [c for c in RANKER_INPUTS if c not in UNIT_INPUTS]
    return [
        *schema_expectations(TRAINING_SCHEMA, mostly=m),
        *not_null((*RANKER_INPUTS, *TRAINING_EXTRA), mostly=m, why="NaN inputs poison training"),
        *between(unbounded, -bound, bound, mostly=m, why="finite: inf inputs poison training"),
        *between(UNIT_INPUTS, 0, 1, mostly=m, why="shares, indicators and one-hots lie in [0, 1]"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1], mostly=m),
        gxe.ExpectColumnValuesToBeInSet(column="surface", value_set=list(SURFACES), mostly=m),
        gxe.ExpectColumnValuesToBeInSet(column="origin", value_set=list(TRAINING_ORIGINS)),
        gxe.ExpectColumnMeanToBeBetween(
            column="label",
            min_value=config.positive_rate_min,
            max_value=config.positive_rate_max,
            meta={"why": "positive rate: far outside the band means labels or sampling broke"},
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=config.min_training_rows),
    ]

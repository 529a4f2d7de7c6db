"""Great Expectations suites for the raw tables (events, catalogue, users) and their event volume.

Every threshold comes from :data:`orchestration.defs.quality.config.QUALITY`. Validation itself
(ephemeral GX context, row-level results) is :func:`orchestration.defs.quality.validation.validate`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

import great_expectations.expectations as gxe
import pandas as pd

from contracts.schemas import EVENT_TYPES, EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from orchestration.defs.quality.config import QUALITY, QualityConfig
from orchestration.defs.quality.expect import (
    ALLOWED_AGE_BUCKETS,
    ALLOWED_DEVICES,
    ALLOWED_SURFACES,
    between,
    epoch_seconds,
    not_after,
    not_null,
    schema_expectations,
)
from orchestration.defs.quality.validation import SuiteOutcome, validate

NATURAL_KEY = ("user_id", "item_id", "event_type", "timestamp")
HELPERS = ("timestamp_epoch_s", "item_not_in_catalogue")  # added by events_for_validation
DAY = pd.Timedelta(days=1)


def _latest(now: datetime | None, config: QualityConfig) -> datetime:
    return (now or datetime.now(UTC)) + config.future_tolerance


def events_expectations(
    now: datetime | None = None, config: QualityConfig = QUALITY
) -> list[gxe.Expectation]:
    """Row-level rules per event, plus the duplicate rate of the natural key.

    Run over :func:`events_for_validation`'s frame, which adds the helper columns named here.
    """
    mostly = config.row_mostly
    return [
        *schema_expectations(EVENTS_SCHEMA, HELPERS, mostly=mostly),
        *not_null(("event_id", "user_id", "item_id", "event_type", "timestamp"), mostly=mostly),
        gxe.ExpectColumnValuesToBeUnique(column="event_id", meta={"why": "the event id is the dedup key"}),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES), mostly=mostly),
        gxe.ExpectColumnValuesToBeInSet(column="surface", value_set=list(ALLOWED_SURFACES), mostly=mostly),
        gxe.ExpectColumnValuesToBeInSet(column="device", value_set=list(ALLOWED_DEVICES), mostly=mostly),
        *between(["position"], -1, config.max_position, mostly=mostly, why="-1 means no slate position"),
        not_after("timestamp_epoch_s", _latest(now, config), mostly=mostly, why="no events from the future"),
        gxe.ExpectColumnValuesToBeNull(
            column="item_not_in_catalogue",
            mostly=mostly,
            meta={"why": "referential integrity: items in the catalogue (or deleted from it since)"},
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=list(NATURAL_KEY),
            mostly=1.0 - config.duplicate_key_max_share,
            meta={"why": "a retried event is counted once; share of rows in duplicated keys"},
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def events_for_validation(events: pd.DataFrame, known_items: Collection[str]) -> pd.DataFrame:
    """The event table plus helper columns: epoch seconds, and the item id where it is unknown.

    A membership column rather than ``ExpectColumnValuesToBeInSet(value_set=catalogue)``: GX copies
    its kwargs for every metric, which takes minutes with a catalogue of a million ids.
    """
    frame = events.reset_index(drop=True)
    blank = pd.Series(index=frame.index, dtype=object)
    items = frame.get("item_id", blank)
    return frame.assign(
        timestamp_epoch_s=epoch_seconds(frame.get("timestamp", blank)),
        item_not_in_catalogue=items.where(~items.isin(set(known_items))),
    )


def daily_volume(timestamps: pd.Series, config: QualityConfig = QUALITY) -> pd.DataFrame:
    """Event counts per 24 h window ending at the newest event: window 0 is the last day.

    Only windows entirely inside the history count (a partial first day would look like a drop).
    """
    stamps = pd.to_datetime(timestamps, utc=True, errors="coerce").dropna()
    if stamps.empty:
        return pd.DataFrame({"window": [], "window_end": [], "events": []})
    end = stamps.max()
    complete = int((end - stamps.min()) // DAY)  # windows 0 .. complete-1 lie inside the history
    windows = max(0, min(complete, config.volume_trailing_days + 1))
    age = ((end - stamps) // DAY).astype("int64")
    counts = age.value_counts().reindex(range(windows), fill_value=0)
    return pd.DataFrame(
        {
            "window": range(windows),
            "window_end": [(end - k * DAY).isoformat() for k in range(windows)],
            "events": counts.to_numpy(dtype="int64"),
        }
    )


def volume_frame(daily: pd.DataFrame) -> pd.DataFrame:
    """One row: the last day's count and its ratio to the trailing days' mean, for GX to bound."""
    last = int(daily["events"].iloc[0])
    trailing = float(daily["events"].iloc[1:].mean())
    ratio = last / trailing if trailing > 0 else float("inf")
    return pd.DataFrame(
        {"last_day_events": [last], "trailing_mean": [trailing], "ratio_to_trailing_mean": [ratio]}
    )


def volume_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="ratio_to_trailing_mean",
            min_value=config.volume_min_ratio,
            max_value=config.volume_max_ratio,
            meta={"why": "a sudden drop or spike in volume means a broken feed, not a trend"},
        )
    ]


def validate_events(
    events: pd.DataFrame,
    known_items: Collection[str],
    now: datetime | None = None,
    config: QualityConfig = QUALITY,
    judge_volume: bool = True,
) -> tuple[SuiteOutcome, dict[str, object]]:
    """The row-level events suite, merged with the volume suite when there is enough history (and
    the table is a feed: ``judge_volume`` off for a snapshot whose tail was cut on purpose)."""
    frame = events_for_validation(events, known_items)
    outcome = validate("events", frame, events_expectations(now, config))
    daily = daily_volume(events.get("timestamp", pd.Series(dtype=object)), config)
    trailing = max(0, len(daily) - 1)
    volume: dict[str, object] = {"daily_events": daily.to_dict("records")}
    if not judge_volume:
        volume["judged"] = "no: a historical snapshot, not a feed (PlatformResource.judge_volume)"
        return outcome, volume
    if trailing < config.volume_min_trailing_days:
        volume["judged"] = f"no: {trailing} complete trailing days < {config.volume_min_trailing_days}"
        return outcome, volume
    volume["judged"] = "yes"
    checked = validate("events_volume", volume_frame(daily), volume_expectations(config))
    return outcome.merged(checked), volume


def catalogue_expectations(config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    mostly = config.row_mostly
    return [
        *schema_expectations(ITEMS_SCHEMA, mostly=mostly),
        *not_null(("item_id", "category", "created_at"), mostly=mostly),
        gxe.ExpectColumnValuesToBeUnique(column="item_id"),
        *between(
            ["price"], 0, config.max_price, mostly=mostly, why="prices are non-negative (NaN = unknown)"
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def users_expectations(now: datetime | None = None, config: QualityConfig = QUALITY) -> list[gxe.Expectation]:
    mostly = config.row_mostly
    return [
        *schema_expectations(USERS_SCHEMA, ["signup_epoch_s"], mostly=mostly),
        *not_null(("user_id", "country", "age_bucket", "device", "segment"), mostly=mostly),
        gxe.ExpectColumnValuesToBeUnique(column="user_id"),
        gxe.ExpectColumnValuesToBeInSet(column="device", value_set=list(ALLOWED_DEVICES), mostly=mostly),
        gxe.ExpectColumnValuesToBeInSet(
            column="age_bucket", value_set=list(ALLOWED_AGE_BUCKETS), mostly=mostly
        ),
        not_after("signup_epoch_s", _latest(now, config), mostly=mostly, why="no sign-ups from the future"),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def users_for_validation(users: pd.DataFrame) -> pd.DataFrame:
    frame = users.reset_index(drop=True)
    return frame.assign(signup_epoch_s=epoch_seconds(frame.get("signup_ts", pd.Series(index=frame.index))))

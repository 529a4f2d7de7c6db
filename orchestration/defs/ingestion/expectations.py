"""Great Expectations suites for the raw tables, run in an ephemeral context per check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd

from contracts.schemas import EVENT_TYPES, EVENTS_SCHEMA, ITEMS_SCHEMA

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[str]
    rows: int


def events_expectations() -> list[gxe.Expectation]:
    latest = (datetime.now(UTC) + FUTURE_TOLERANCE).replace(tzinfo=None)
    return [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*EVENTS_SCHEMA.names, "timestamp_naive"], exact_match=True
        ),
        *(
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("event_id", "user_id", "item_id", "timestamp")
        ),
        gxe.ExpectColumnValuesToBeUnique(column="event_id"),
        gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES)),
        gxe.ExpectColumnValuesToBeBetween(column="position", min_value=-1, max_value=10_000),
        gxe.ExpectColumnValuesToBeBetween(column="timestamp_naive", max_value=latest),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def catalogue_expectations() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(ITEMS_SCHEMA.names), exact_match=True),
        gxe.ExpectColumnValuesToNotBeNull(column="item_id"),
        gxe.ExpectColumnValuesToBeUnique(column="item_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="category"),
        gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, mostly=1.0),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
    ]


def validate(name: str, frame: pd.DataFrame, expectations: list[gxe.Expectation]) -> SuiteOutcome:
    """Run ``expectations`` over ``frame`` and summarise which ones failed."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(f"{name}_pandas")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame})
    failed = [
        f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', '')})"
        for r in result.results
        if not r.success
    ]
    return SuiteOutcome(bool(result.success), len(result.results), failed, len(frame))


def events_for_validation(events: pd.DataFrame) -> pd.DataFrame:
    """GX compares naive datetimes; add a UTC-naive copy of the timestamp for the range check."""
    frame = events.copy()
    frame["timestamp_naive"] = frame["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame

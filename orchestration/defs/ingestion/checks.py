"""Blocking data-quality checks: bad events or a broken catalogue never reach features or models."""

import dagster as dg

from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.ingestion.assets import catalogue, events
from orchestration.defs.ingestion.expectations import (
    SuiteOutcome,
    catalogue_expectations,
    events_expectations,
    events_for_validation,
    validate,
)


def _result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows": outcome.rows,
            "expectations_evaluated": outcome.evaluated,
            "expectations_failed": dg.MetadataValue.json(outcome.failed),
        },
    )


@dg.asset_check(asset=events, blocking=True, description="Great Expectations suite over the event table.")
def events_quality(platform: PlatformResource) -> dg.AssetCheckResult:
    frame = events_for_validation(read_table(platform.settings.paths, "events"))
    return _result(validate("events", frame, events_expectations()))


@dg.asset_check(asset=catalogue, blocking=True, description="Great Expectations suite over the catalogue.")
def catalogue_quality(platform: PlatformResource) -> dg.AssetCheckResult:
    return _result(
        validate("catalogue", read_table(platform.settings.paths, "items"), catalogue_expectations())
    )

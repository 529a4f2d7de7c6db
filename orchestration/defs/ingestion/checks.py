"""Blocking data-quality checks on the raw tables: bad events, items or users never reach features.

Each check runs a Great Expectations suite (``expectations.py``), writes failing rows and a report
to the quarantine (``orchestration/defs/quality/quarantine.py`` documents the policy) and fails,
which stops every downstream asset of the run.
"""

import dagster as dg

from bento.catalogue.filter_store import read_catalogue_changes
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.ingestion.assets import catalogue, events, users
from orchestration.defs.ingestion.expectations import (
    catalogue_expectations,
    users_expectations,
    users_for_validation,
    validate,
    validate_events,
)
from orchestration.defs.quality.results import TableCheck, evaluate


@dg.asset_check(
    asset=events,
    blocking=True,
    additional_deps=[catalogue],  # item ids come from this run's catalogue, so run after it
    description="Great Expectations over the event table: schema, nulls, allowed values, no future "
    "timestamps, known items, unique ids, natural-key duplicate rate, last-day volume.",
)
def events_quality(context: dg.AssetCheckExecutionContext, platform: PlatformResource) -> dg.AssetCheckResult:
    paths = platform.settings.paths
    frame = read_table(paths, "events")
    items = read_table(paths, "items", columns=["item_id"])
    _, removed = read_catalogue_changes(paths.filter_store)
    # Events may name items deleted or flagged since: they existed when the event happened.
    known = set(items["item_id"]) | removed
    outcome, volume = validate_events(frame, known, judge_volume=platform.judge_volume)
    return evaluate(context, paths, [TableCheck(frame, outcome, {"volume": volume})])


@dg.asset_check(
    asset=catalogue,
    blocking=True,
    description="Great Expectations over the catalogue: schema, unique ids, categories, prices.",
)
def catalogue_quality(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource
) -> dg.AssetCheckResult:
    paths = platform.settings.paths
    frame = read_table(paths, "items")
    return evaluate(context, paths, [TableCheck(frame, validate("items", frame, catalogue_expectations()))])


@dg.asset_check(
    asset=users,
    blocking=True,
    description="Great Expectations over user profiles: schema, unique ids, devices, age buckets.",
)
def users_quality(context: dg.AssetCheckExecutionContext, platform: PlatformResource) -> dg.AssetCheckResult:
    paths = platform.settings.paths
    frame = read_table(paths, "users")
    outcome = validate("users", users_for_validation(frame), users_expectations())
    return evaluate(context, paths, [TableCheck(frame, outcome)])

"""The code location loads, with every stage's assets in its group and the blocking checks."""

from datetime import timedelta

import dagster as dg

from orchestration.definitions import defs

EXPECTED = {
    "ingestion": {"source_world", "event_archive", "events", "catalogue", "users"},
    "features": {"batch_features", "feature_registry", "online_features"},
    "candidate_generation": {
        "source_tuning",
        "item_knn",
        "ease_neighbours",
        "als_factors",
        "retrieval_model",
        "item_index",
        "content_index",
        "co_interaction",
        "trending",
        "editorial",
        "live_trending",
    },
    "ranking": {"training_set", "ranking_model"},
    "evaluation": {"offline_evaluation", "protocol_evaluation"},
    "serving": {
        "fallback_lists",
        "staged_bundle",
        "serving_bundle",
        "production_model",
        "published_artifacts",
    },
    "privacy": {"user_erasure", "data_retention", "item_purge"},
    "trust": {"user_trust", "review_queue"},
}


def test_definitions_validate() -> None:
    dg.Definitions.validate_loadable(defs)


def test_assets_grouped_by_funnel_stage() -> None:
    graph = defs.resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert key.path[0] == node.group_name, f"{key} prefix differs from its group"
        groups.setdefault(node.group_name, set()).add(key.path[-1])
    assert groups == EXPECTED


def test_quality_checks_are_blocking() -> None:
    graph = defs.resolve_asset_graph()
    checks = {key.name: key for key in graph.asset_check_keys}
    assert {"events_quality", "catalogue_quality"} <= set(checks)
    for name in ("events_quality", "catalogue_quality"):
        assert graph.get_check_spec(checks[name]).blocking


def test_derived_assets_have_freshness_policies() -> None:
    graph = defs.resolve_asset_graph()
    stale_ok = {"source_world"}  # the input: its age is what the others measure
    for key in graph.get_all_asset_keys():
        if key.path[-1] in stale_ok:
            continue
        assert graph.get(key).freshness_policy is not None, f"{key} has no freshness policy"


def test_freshness_targets_are_the_designs() -> None:
    """Trending 5 min, batch features a day (PAGE at 48 h), serving model 48 h, fallbacks 24 h,
    event archive 2 h: the WARN window is the target, the FAIL window the PAGE threshold."""
    graph = defs.resolve_asset_graph()

    def windows(key: str) -> tuple[timedelta | None, timedelta]:
        policy = graph.get(dg.AssetKey.from_user_string(key)).freshness_policy
        warn = policy.warn_window.to_timedelta() if policy.warn_window else None
        return warn, policy.fail_window.to_timedelta()

    assert windows("candidate_generation/live_trending")[0] <= timedelta(minutes=6)
    assert windows("features/batch_features") == (timedelta(hours=25), timedelta(hours=48))
    assert windows("serving/production_model")[1] == timedelta(hours=48)
    assert windows("serving/fallback_lists")[0] == timedelta(hours=24)
    assert windows("ingestion/event_archive")[0] == timedelta(hours=2)


def test_platform_schedules_and_alert_sensors_are_on() -> None:
    """What the daemon runs (by job): retrain, archive, trending, index, erasure, retention."""
    crons = {s.job_name: s.cron_schedule for s in defs.schedules}
    assert crons["trending_refresh"] == "*/5 * * * *"
    jobs = {"full_loop", "archive_events", "index_rebuild", "erase_users", "enforce_retention"}
    assert jobs <= set(crons)
    sensors = {s.name: s for s in defs.sensors}
    for name in ("loop_health_alerts", "loop_failure_alert"):
        assert sensors[name].default_status == dg.DefaultSensorStatus.RUNNING

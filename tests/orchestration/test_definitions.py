"""The code location loads, with every stage's assets in its group and the blocking checks."""

import dagster as dg

from orchestration.definitions import defs

EXPECTED = {
    "ingestion": {"source_world", "event_archive", "events", "catalogue", "users"},
    "features": {"batch_features", "feature_registry", "online_features"},
    "candidate_generation": {
        "item_knn",
        "als_factors",
        "retrieval_model",
        "item_index",
        "content_index",
        "co_interaction",
        "trending",
        "editorial",
    },
    "ranking": {"training_set", "ranking_model"},
    "evaluation": {"offline_evaluation", "protocol_evaluation"},
    "serving": {"fallback_lists", "staged_bundle", "serving_bundle", "production_model"},
    "privacy": {"user_erasure", "data_retention"},
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

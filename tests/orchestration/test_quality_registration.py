"""The code location registers every data-quality check, each blocking and on the right asset."""

import dagster as dg

from orchestration.definitions import defs

CHECKS = {
    "events_quality": ["ingestion", "events"],
    "catalogue_quality": ["ingestion", "catalogue"],
    "users_quality": ["ingestion", "users"],
    "batch_features_quality": ["features", "batch_features"],
    "training_set_quality": ["ranking", "training_set"],
}


def test_every_quality_check_is_registered_and_blocking() -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.name: key for key in graph.asset_check_keys}
    assert set(CHECKS) <= set(keys), f"missing from orchestration/definitions.py: {set(CHECKS) - set(keys)}"
    for name, asset in CHECKS.items():
        assert keys[name].asset_key == dg.AssetKey(asset)
        assert graph.get_check_spec(keys[name]).blocking, f"{name} must block downstream assets"


def test_the_daily_job_runs_the_checks() -> None:
    job = defs.resolve_job_def("full_loop")
    selected = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert set(CHECKS) <= selected

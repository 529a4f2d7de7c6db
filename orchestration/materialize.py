"""`python -m orchestration.materialize`: run the whole loop once, recorded in the Dagster instance.

Used by `make run`. A second run reuses a fresh bundle (built from the same source within the
freshness window) instead of rebuilding; `--force` rebuilds anyway. Each step's wall time and peak
RSS are printed as it finishes and saved to ``$RECO_HOME/artifacts/loop_profile.json``
(``orchestration.step_profile``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from contracts.registry import read_production
from orchestration.definitions import defs
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.config import FRESHNESS
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.serving.assets import current_bundle_file, serving_bundle, source_fingerprint
from orchestration.step_profile import StepProfiler


def bundle_is_fresh(platform: PlatformResource) -> bool:
    path = current_bundle_file(platform.settings.paths)
    if not path.exists():
        return False
    current = json.loads(path.read_text())
    age = datetime.now(UTC) - datetime.fromisoformat(current["built_at"])
    return current.get("source") == source_fingerprint(platform.settings) and age < FRESHNESS.warn_after


def materialize_all(
    platform: PlatformResource,
    instance: dg.DagsterInstance,
    artifacts: ArtifactStoreResource | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    profiler: StepProfiler | None = None,
) -> dg.ExecuteInProcessResult:
    """The full loop (or ``asset_selection`` of it) in process; ``artifacts`` overrides the store;
    ``profiler`` hears every step start and end of the run."""
    job = defs.resolve_job_def("full_loop")
    if asset_selection is not None:
        job = job.get_subset(asset_selection=set(asset_selection))
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}  # step events stay in the UI
    resources: dict[str, object] = {"platform": platform}
    if artifacts is not None:
        resources["artifacts"] = artifacts
    run_id = str(uuid.uuid4())
    if profiler is not None:
        profiler.attach(instance, run_id)
    return job.execute_in_process(
        run_config=quiet,
        instance=instance,
        resources=resources,
        raise_on_error=False,
        run_id=run_id,
    )


def profiled_materialize(
    platform: PlatformResource,
    instance: dg.DagsterInstance,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    profiler: StepProfiler | None = None,
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """:func:`materialize_all` with each step's time and peak RSS printed as it finishes, and saved
    (with the whole run's wall time and process peak) to ``artifacts/loop_profile.json``."""
    profiler = profiler or StepProfiler()
    started = time.perf_counter()
    result = materialize_all(platform, instance, asset_selection=asset_selection, profiler=profiler)
    wall = round(time.perf_counter() - started, 2)
    process_peak = profiler.process_peak_mib()
    written = profiler.write(
        platform.settings.paths.artifacts,
        wall_seconds=wall,
        process_peak_rss_mib=process_peak,
        source=platform.settings.source.model_dump(mode="json"),
        success=result.success,
    )
    print(f"loop: {wall:.0f} s, peak RSS {process_peak:.0f} MiB; per step: {written}", flush=True)
    return result, written


def gate_blocked(result: dg.ExecuteInProcessResult, platform: PlatformResource) -> str | None:
    """A message when the promotion gate alone stopped the run and a production version serves."""
    gate = [e for e in result.get_asset_check_evaluations() if e.check_name == "promotion_gate"]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    failed_steps = {e.step_key for e in result.all_events if e.is_step_failure}
    if not gate or gate[0].passed or serving_bundle.key not in materialized or len(failed_steps) > 1:
        return None
    pointer = read_production(platform.settings.paths.home)
    if pointer is None:
        return None
    failed = gate[0].metadata.get("failed_rules")
    return (
        f"the promotion gate blocked {gate[0].metadata['candidate_version'].value} "
        f"({failed.value if failed else '?'}); production stays {pointer.current.version}. "
        "Details: the Dagster UI or `python -m orchestration.registry list`."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="rebuild even if the bundle is fresh")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="ASSET",
        help="leave an asset out, e.g. evaluation/protocol_evaluation (the quality bench; CI)",
    )
    args = parser.parse_args(argv)
    platform = PlatformResource.from_env()
    if not args.force and bundle_is_fresh(platform):
        current = json.loads(current_bundle_file(platform.settings.paths).read_text())
        print(
            f"bundle {current['bento']} is fresh (built {current['built_at']}); reusing it (FORCE=1 rebuilds)"
        )
        return 0
    selection = None
    if args.skip:
        skipped = {dg.AssetKey.from_user_string(key) for key in args.skip}
        loop = defs.resolve_job_def("full_loop").asset_layer.asset_graph.get_all_asset_keys()
        selection = sorted(set(loop) - skipped)
    with dg.DagsterInstance.get() as instance:
        result, _ = profiled_materialize(platform, instance, selection)
    if not result.success:
        if (blocked := gate_blocked(result, platform)) is not None:
            print(blocked, file=sys.stderr)  # production keeps serving: not a failure of the build
            return 0
        print("the loop failed; see the Dagster UI (`make ui`) for the failing step", file=sys.stderr)
        return 1
    print(f"materialized {len(result.get_asset_materialization_events())} assets")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-step wall time and peak RSS: heard from the run's own events, printed, and saved."""

from __future__ import annotations

import io
import json
from pathlib import Path

import dagster as dg
import numpy as np

from bench.interactions_file import JSONL_COLUMNS, ReviewFileSpec, write_review_file
from orchestration.defs.common.resources import PlatformResource
from orchestration.materialize import profiled_materialize
from orchestration.step_profile import PROFILE_FILE, StepProfiler

HELD_MIB = 120


@dg.asset
def holds_memory() -> int:
    block = np.ones(HELD_MIB * 2**20 // 8)  # touched, so resident
    return int(block.sum() > 0)


@dg.asset(deps=[holds_memory])
def small() -> int:
    return 1


@dg.asset
def breaks() -> None:
    raise RuntimeError("this step fails")


def _run(profiler: StepProfiler, assets: list[dg.AssetsDefinition]) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    job = dg.Definitions(assets=assets, jobs=[dg.define_asset_job("profiled")]).resolve_job_def("profiled")
    run_id = "5f0c1c1e-0000-4000-8000-000000000001"
    profiler.attach(instance, run_id)
    return job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False)


def test_each_step_is_printed_as_it_ends_with_its_own_peak(tmp_path: Path) -> None:
    out = io.StringIO()
    profiler = StepProfiler(out=out)
    result = _run(profiler, [holds_memory, small, breaks])
    assert not result.success
    figures = {s.step: s for s in profiler.steps}
    assert set(figures) == {"holds_memory", "small", "breaks"}
    assert figures["breaks"].status == "failure" and figures["holds_memory"].status == "success"
    held = figures["holds_memory"]
    assert held.peak_rss_mib - held.rss_at_start_mib >= 0.9 * HELD_MIB
    if profiler.peak_scope == "step":  # the high-water mark was reset: the next step is not charged
        assert figures["small"].peak_rss_mib < held.peak_rss_mib
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("[step] ") and "peak RSS" in line for line in lines)
    written = json.loads(profiler.write(tmp_path, wall_seconds=1.0).read_text())
    assert [s["step"] for s in written["steps"]] == [s.step for s in profiler.steps]
    assert (
        written["peak_rss_mib"] == max(s.peak_rss_mib for s in profiler.steps)
        and written["wall_seconds"] == 1.0
    )


def test_the_loops_profile_lands_under_artifacts(tmp_path: Path) -> None:
    spec = ReviewFileSpec(lines=400, users=60, items=40, topics=4)
    source = tmp_path / "reviews.jsonl"
    write_review_file(source, spec, "jsonl")
    platform = PlatformResource(
        home=str(tmp_path / "home"), source_kind="interactions", source_path=str(source),
        source_columns=JSONL_COLUMNS, progress=False,
    )  # fmt: skip
    selection = [dg.AssetKey(["ingestion", "source_world"]), dg.AssetKey(["ingestion", "catalogue"])]
    result, path = profiled_materialize(platform, dg.DagsterInstance.ephemeral(), selection)
    assert result.success
    assert path == platform.settings.paths.artifacts / PROFILE_FILE
    profile = json.loads(path.read_text())
    steps = {s["step"] for s in profile["steps"]}
    assert steps >= {"ingestion__source_world", "ingestion__catalogue"}  # and the catalogue's check
    assert profile["source"]["kind"] == "interactions" and profile["success"] is True
    assert profile["process_peak_rss_mib"] >= profile["peak_rss_mib"] > 0

"""Reads what the rules judge from Dagster's instance and the platform's files (the I/O edge).

Everything here returns the plain values of ``rules.py``; nothing decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx

from orchestration.defs.alerting.rules import AssetFreshness, CheckResult, RunResult

_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def downstream_of(graph: dg.AssetGraph, key: dg.AssetKey) -> tuple[str, ...]:
    """Every asset that depends on ``key``, transitively, sorted."""
    seen: set[dg.AssetKey] = set()
    todo = list(graph.get(key).child_keys)
    while todo:
        child = todo.pop()
        if child not in seen:
            seen.add(child)
            todo.extend(graph.get(child).child_keys)
    return tuple(sorted(k.to_user_string() for k in seen))


def asset_freshness(instance: dg.DagsterInstance, graph: dg.AssetGraph) -> list[AssetFreshness]:
    """Assets with a time-window policy: last materialization and the daemon's recorded state.

    (Cron policies are left to the daemon's recorded state; this platform declares none.)
    """
    policed = {
        key: policy
        for key in graph.get_all_asset_keys()
        if hasattr(policy := graph.get(key).freshness_policy, "fail_window")  # TimeWindowFreshnessPolicy
    }
    keys = list(policed)
    records = {r.asset_entry.asset_key: r for r in instance.get_asset_records(keys)}
    states = instance.get_freshness_state_records(keys)
    out = []
    for key, policy in policed.items():
        record = records.get(key)
        last = record.asset_entry.last_materialization if record else None
        state = states.get(key)
        out.append(
            AssetFreshness(
                key=key.to_user_string(),
                fail_after=policy.fail_window.to_timedelta(),
                warn_after=policy.warn_window.to_timedelta() if policy.warn_window else None,
                last_updated=_at(last.timestamp) if last else None,
                recorded_state=state.freshness_state.value if state else None,
                recorded_at=state.updated_at if state else None,
                parents=tuple(p.to_user_string() for p in graph.get(key).parent_keys),
                downstream=downstream_of(graph, key),
            )
        )
    return out


def check_results(instance: dg.DagsterInstance, graph: dg.AssetGraph) -> list[CheckResult]:
    """The latest evaluation of every asset check (checks never evaluated are left out)."""
    out = []
    for check_key in graph.asset_check_keys:
        record = instance.get_latest_asset_check_evaluation_record(check_key)
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        if evaluation is None:
            continue
        failed = evaluation.metadata.get("failed_rules") or evaluation.metadata.get("failed")
        out.append(
            CheckResult(
                key=f"{check_key.asset_key.to_user_string()}:{check_key.name}",
                asset=check_key.asset_key.to_user_string(),
                passed=evaluation.passed,
                blocking=graph.get_check_spec(check_key).blocking,
                evaluated_at=_at(record.event.timestamp),
                downstream=downstream_of(graph, check_key.asset_key),
                detail=f"failed: {failed.value}" if failed is not None else "",
                run_id=record.run_id,
            )
        )
    return out


def run_results(instance: dg.DagsterInstance, jobs: Iterable[str]) -> list[RunResult]:
    """The latest finished run of each job."""
    out = []
    for job in jobs:
        records = instance.get_run_records(filters=dg.RunsFilter(job_name=job, statuses=_FINISHED), limit=1)
        if not records:
            continue
        record = records[0]
        run = record.dagster_run
        failed = run.status == dg.DagsterRunStatus.FAILURE
        out.append(
            RunResult(
                job=job,
                failed=failed,
                at=_at(record.end_time) if record.end_time else record.update_timestamp.astimezone(UTC),
                run_id=run.run_id,
                detail=failed_steps(instance, run.run_id) if failed else "",
            )
        )
    return out


def failed_steps(instance: dg.DagsterInstance, run_id: str) -> str:
    logs = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    steps = sorted({entry.step_key for entry in logs if entry.step_key})
    return f"Failed steps: {', '.join(steps)}." if steps else "The run failed before any step."


def oldest_pending_event(event_log: Path | str) -> datetime | None:
    """Timestamp of the first event the streaming session updater has not committed, if any."""
    from bento.ingestion.consumers import offsets_for
    from bento.ingestion.log_backend import open_event_source
    from bento.ingestion.session_updater import CONSUMER_NAME

    if isinstance(event_log, Path) and not event_log.exists():
        return None
    source = open_event_source(event_log)
    try:
        committed = offsets_for(source).get(CONSUMER_NAME)
        pending = source.read(committed, 1)
    finally:
        source.close()
    if not pending:
        return None
    return datetime.fromisoformat(pending[0][1]["timestamp"]).astimezone(UTC)


def scrape(url: str, timeout_s: float) -> str | None:
    """The service's Prometheus text, or None when it cannot be read (serving has its own probes)."""
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None

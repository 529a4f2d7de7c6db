"""From suite outcomes to a Dagster asset check result: quarantine written, metadata for the UI.

Each blocking check validates one or more tables, quarantines their failing rows, and reports in
its metadata: rows, expectations evaluated, failed ones (with observed values), tolerated ones,
quarantined row count and the quarantine/report paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import pandas as pd

from contracts.settings import PlatformPaths
from orchestration.defs.quality.config import QUALITY, QualityConfig
from orchestration.defs.quality.quarantine import Quarantine, quarantine_root, run_stamp, write_quarantine
from orchestration.defs.quality.validation import SuiteOutcome, jsonable


@dataclass(frozen=True)
class TableCheck:
    """One validated table: the frame the rows come from, its outcome, extra facts for the UI."""

    frame: pd.DataFrame
    outcome: SuiteOutcome
    extra: dict[str, Any] = field(default_factory=dict)


def check_stamp(context: dg.AssetCheckExecutionContext) -> tuple[str, str]:
    """(stamp, run id) naming this run's quarantine files: the run's start time when known."""
    run_id = context.run.run_id
    started = None
    try:
        record = context.instance.get_run_record_by_id(run_id)
        if record is not None and record.start_time:
            started = datetime.fromtimestamp(record.start_time, UTC)
    except Exception:  # an ephemeral or partial instance: fall back to the check's own time
        started = None
    return run_stamp(run_id, started), run_id


def evaluate(
    context: dg.AssetCheckExecutionContext,
    paths: PlatformPaths,
    tables: list[TableCheck],
    config: QualityConfig = QUALITY,
) -> dg.AssetCheckResult:
    stamp, run_id = check_stamp(context)
    root = quarantine_root(paths.home)
    written = [
        write_quarantine(root, t.frame, t.outcome, stamp=stamp, run_id=run_id, extra=t.extra, config=config)
        for t in tables
    ]
    for q in written:
        if q.report_path is not None:
            context.log.warning(f"{q.table}: {q.rows} rows quarantined; report {q.report_path}")
    return check_result(tables, written, config)


def check_result(
    tables: list[TableCheck], written: list[Quarantine], config: QualityConfig = QUALITY
) -> dg.AssetCheckResult:
    """Blocking verdict (any failed expectation fails the check) with the metadata the UI shows."""
    outcomes = [t.outcome for t in tables]
    several = len(outcomes) > 1
    label = (lambda o, name: f"{o.table}: {name}") if several else (lambda o, name: name)
    failed = {
        label(o, r.name): r.summary(config.report_samples)
        for o in outcomes
        for r in o.results
        if not r.success
    }
    tolerated = {label(o, r.name): r.summary(config.report_samples) for o in outcomes for r in o.tolerated}
    data_paths = [str(q.data_path) for q in written if q.data_path is not None]
    reports = [str(q.report_path) for q in written if q.report_path is not None]
    metadata: dict[str, Any] = {
        "rows": sum(o.rows for o in outcomes),
        "expectations_evaluated": sum(o.evaluated for o in outcomes),
        "expectations_failed": dg.MetadataValue.json(failed),
        "expectations_tolerated": dg.MetadataValue.json(tolerated),
        "quarantined_rows": sum(q.rows for q in written),
        "quarantine_path": _paths(data_paths, "none (nothing quarantined)"),
        "quarantine_report": _paths(reports, "none (nothing failed)"),
    }
    if several:
        metadata["rows_by_table"] = dg.MetadataValue.json({o.table: o.rows for o in outcomes})
    for t in tables:
        for key, value in t.extra.items():
            metadata[f"{t.outcome.table}_{key}" if several else key] = _value(value)
    return dg.AssetCheckResult(
        passed=all(o.success for o in outcomes), severity=dg.AssetCheckSeverity.ERROR, metadata=metadata
    )


def _value(value: Any) -> Any:
    plain = jsonable(value)
    if isinstance(plain, dict | list):
        return dg.MetadataValue.json(plain)
    return dg.MetadataValue.text("n/a") if plain is None else plain


def _paths(paths: list[str], empty: str) -> dg.MetadataValue:
    if not paths:
        return dg.MetadataValue.text(empty)
    return dg.MetadataValue.path(paths[0]) if len(paths) == 1 else dg.MetadataValue.json(paths)

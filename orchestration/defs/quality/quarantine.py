"""Quarantine: rows that failed a row-level expectation are kept on disk with a JSON report.

Layout: ``$RECO_HOME/quarantine/<table>/<stamp>.parquet`` (the failing rows, each with the
expectations it failed) and ``<stamp>.json`` (every failed or tolerated expectation: how many
rows, sample values, why it exists). ``<stamp>`` is the run's start time plus the run id's
first 8 characters, so two runs never overwrite each other and a file leads back to its run.

Policy: a check fails (and, being blocking, stops every downstream asset) as soon as any
expectation fails, so quarantined rows are never consumed and never silently dropped: the
run stops, and the operator inspects the quarantine, fixes the source and reruns. Rows an
expectation tolerates (``mostly`` < 1, e.g. natural-key duplicates below their share) proceed
and are listed in the report only. A clean run (nothing failed or tolerated) writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from orchestration.defs.quality.config import QUALITY, QualityConfig
from orchestration.defs.quality.validation import SuiteOutcome, jsonable

QUARANTINE_DIR = "quarantine"
FAILED_COLUMN = "failed_expectations"
ROW_COLUMN = "source_row"


@dataclass(frozen=True)
class Quarantine:
    """What one table's check left on disk (paths are None when nothing was written)."""

    table: str
    rows: int
    data_path: Path | None = None
    report_path: Path | None = None


def quarantine_root(home: Path) -> Path:
    return Path(home) / QUARANTINE_DIR


def run_stamp(run_id: str, started: datetime | None = None) -> str:
    started = (started or datetime.now(UTC)).astimezone(UTC)
    return f"{started:%Y%m%dT%H%M%SZ}-{run_id[:8]}"


def quarantine_rows(frame: pd.DataFrame, outcome: SuiteOutcome) -> pd.DataFrame:
    """The rows failed expectations flagged, with their position and the expectations' names."""
    flagged = outcome.failing_rows()
    positions = sorted(flagged)
    rows = frame.reset_index(drop=True).iloc[positions].copy()
    rows.insert(0, ROW_COLUMN, positions)
    rows[FAILED_COLUMN] = ["; ".join(flagged[p]) for p in positions]
    return rows.reset_index(drop=True)


def write_quarantine(
    root: Path,
    frame: pd.DataFrame,
    outcome: SuiteOutcome,
    *,
    stamp: str,
    run_id: str,
    extra: dict[str, Any] | None = None,
    config: QualityConfig = QUALITY,
) -> Quarantine:
    """Write failing rows and the report when anything failed or was tolerated; else nothing."""
    rows = quarantine_rows(frame, outcome)
    if outcome.success and rows.empty and not outcome.tolerated:
        return Quarantine(outcome.table, 0)
    directory = Path(root) / outcome.table
    directory.mkdir(parents=True, exist_ok=True)
    data_path = None
    if not rows.empty:
        data_path = directory / f"{stamp}.parquet"
        _write_parquet(rows, data_path)
    report_path = directory / f"{stamp}.json"
    report = {
        "table": outcome.table,
        "run_id": run_id,
        "written_at": datetime.now(UTC).isoformat(),
        "validated_rows": outcome.rows,
        "passed": outcome.success,
        "decision": "passed" if outcome.success else "blocked: downstream assets of this run did not run",
        "quarantined_rows": len(rows),
        "quarantine_file": str(data_path) if data_path else None,
        "failed": [r.summary(config.report_samples) for r in outcome.results if not r.success],
        "tolerated": [r.summary(config.report_samples) for r in outcome.tolerated],
        **({"extra": jsonable(extra)} if extra else {}),
    }
    tmp = report_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(report_path)
    return Quarantine(outcome.table, len(rows), data_path, report_path)


def _write_parquet(rows: pd.DataFrame, path: Path) -> None:
    """Bad rows may mix types in a column (that is often why they are here): fall back to text."""
    tmp = path.with_suffix(".parquet.tmp")
    try:
        rows.to_parquet(tmp, index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        mixed = [c for c in rows.columns if rows[c].dtype == object]
        rows.astype({c: str for c in mixed}).to_parquet(tmp, index=False)
    tmp.replace(path)

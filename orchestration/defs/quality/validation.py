"""Run Great Expectations over a DataFrame and keep what a check needs: what failed, on which rows.

Validation runs in an ephemeral GX context with the ``COMPLETE`` result format, so row-level
(column map) expectations report the index of every unexpected row; the quarantine is built from
those indices rather than from a second, hand-rolled pass that could disagree with GX.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
SAMPLE_LIMIT = 20  # unexpected values kept per expectation (reports trim further)


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's verdict; ``rows`` are positions of unexpected rows (row-level ones only)."""

    name: str
    success: bool
    observed: Any
    table: str = ""
    unexpected_count: int = 0
    unexpected_share: float | None = None
    sample: list[Any] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    row_level: bool = False
    why: str = ""

    def summary(self, samples: int) -> dict[str, Any]:
        """A JSON-safe digest for check metadata and the quarantine report."""
        out: dict[str, Any] = {"expectation": self.name, "success": self.success}
        if self.why:
            out["why"] = self.why
        if self.row_level:
            out |= {
                "unexpected_count": self.unexpected_count,
                "unexpected_share": self.unexpected_share,
                "sample_values": jsonable(self.sample[:samples]),
            }
        else:
            out["observed"] = jsonable(self.observed)
        return out


@dataclass(frozen=True)
class SuiteOutcome:
    """The results of one suite over one table (possibly merged with a companion suite)."""

    table: str
    rows: int
    results: tuple[ExpectationResult, ...]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def evaluated(self) -> int:
        return len(self.results)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if not r.success]

    @property
    def tolerated(self) -> list[ExpectationResult]:
        """Passed within their ``mostly`` tolerance, yet some rows were unexpected."""
        return [r for r in self.results if r.success and r.unexpected_count]

    def failing_rows(self) -> dict[int, list[str]]:
        """Row position -> names of the *failed* row-level expectations that flagged it."""
        flagged: dict[int, list[str]] = {}
        for result in self.results:
            if result.success or not result.row_level or result.table != self.table:
                continue
            for position in result.rows.tolist():
                flagged.setdefault(int(position), []).append(result.name)
        return flagged

    def merged(self, other: SuiteOutcome) -> SuiteOutcome:
        """Add a companion suite's results (e.g. volume over per-day counts); its rows are not ours."""
        return SuiteOutcome(self.table, self.rows, self.results + other.results)


def expectation_name(config: Any) -> str:
    """``type(column)`` (or the column list), the label reports and metadata use."""
    kwargs = config.kwargs
    columns = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
    return f"{config.type}({columns})"


def validate(name: str, frame: pd.DataFrame, expectations: Sequence[gxe.Expectation]) -> SuiteOutcome:
    """Run ``expectations`` over ``frame``; rows in the outcome are positions, not index labels."""
    frame = frame.reset_index(drop=True)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(f"{name}_pandas")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=list(expectations)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
    )
    order = {e.id: i for i, e in enumerate(suite.expectations)}
    ranked = sorted(result.results, key=lambda r: order.get(r.expectation_config.id, len(order)))
    return SuiteOutcome(name, len(frame), tuple(_outcome(r, name, len(frame)) for r in ranked))


def _outcome(result: Any, table: str, n_rows: int) -> ExpectationResult:
    config = result.expectation_config
    name = expectation_name(config)
    why = str((config.meta or {}).get("why", ""))
    error = _exception_message(result.exception_info)
    if error is not None:
        return ExpectationResult(name, False, {"error": error}, table, why=why)
    details = result.result or {}
    if "unexpected_index_list" not in details:
        return ExpectationResult(name, bool(result.success), details.get("observed_value"), table, why=why)
    count = int(details.get("unexpected_count") or 0)
    values = details.get("unexpected_list") or details.get("partial_unexpected_list") or []
    return ExpectationResult(
        name,
        bool(result.success),
        None,
        table,
        unexpected_count=count,
        unexpected_share=count / n_rows if n_rows else 0.0,
        sample=list(values[:SAMPLE_LIMIT]),
        rows=np.asarray(details["unexpected_index_list"], dtype=np.int64),
        row_level=True,
        why=why,
    )


def _exception_message(info: Any) -> str | None:
    """GX nests exceptions per metric when a metric fails (e.g. a missing column)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def jsonable(value: Any) -> Any:
    """Numpy scalars, timestamps, NaN and tuples into plain JSON values (NaN/inf as strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, timedelta | pd.Timedelta):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)

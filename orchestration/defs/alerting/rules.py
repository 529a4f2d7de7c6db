"""The decision: what the loop looks like now (plain values) -> the alerts that should be open.

Pure functions, no I/O, so every threshold is unit-tested without Dagster or a network. The sensor
(``sensors.py``) gathers the inputs (``observe.py``) and hands the result to ``state.py``, which
turns "should be open" into triggers and resolves.

Freshness is judged twice and the worse answer wins: the freshness daemon's recorded state, and
the asset's time-window policy evaluated here against the last materialization, so a stopped
freshness daemon cannot silence the alert the design cares most about (the loop stopped learning).
A stale asset whose parent is stale at the same severity is folded into the parent's alert: one
page names the cause and lists everything it holds back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from orchestration.defs.alerting.config import Severity, Thresholds

State = Literal["PASS", "WARN", "FAIL", "UNKNOWN", "NOT_APPLICABLE"]
RANK: dict[str, int] = {"WARN": 1, "PAGE": 2}
_STATE_RANK: dict[str, int] = {"PASS": 0, "WARN": 1, "FAIL": 2}
_SEVERITY_OF_STATE: dict[str, Severity] = {"WARN": "WARN", "FAIL": "PAGE"}

# Runbook sections of docs/operations.md, by the first asset-key part (or the full key).
RUNBOOK_BY_ASSET = {
    "ingestion/event_archive": "event-archive-stale",
    "ingestion": "events-not-arriving",
    "features": "batch-pipeline-stale",
    "candidate_generation/live_trending": "trending-stale",
    "candidate_generation": "training-stopped",
    "ranking": "training-stopped",
    "evaluation": "training-stopped",
    "serving/fallback_lists": "fallback-lists-stale",
    "serving": "stale-model",
    "privacy": "privacy-jobs-stale",
}
RUNBOOK_FAILED_CHECK = "failed-check"
RUNBOOK_FAILED_RUN = "failed-run"
RUNBOOK_FEATURE_LAG = "feature-lag"


@dataclass(frozen=True)
class Alert:
    """One condition someone must know about; ``subject`` is its identity for de-duplication."""

    subject: str
    severity: Severity
    title: str
    since: datetime
    detail: str = ""
    downstream: tuple[str, ...] = ()
    runbook: str = ""  # an anchor in docs/operations.md

    def as_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "severity": self.severity,
            "title": self.title,
            "since": self.since.isoformat(),
            "detail": self.detail,
            "downstream": list(self.downstream),
            "runbook": self.runbook,
        }


@dataclass(frozen=True)
class AssetFreshness:
    """One asset with a time-window freshness policy, as the sensor saw it."""

    key: str
    fail_after: timedelta
    warn_after: timedelta | None
    last_updated: datetime | None
    recorded_state: State | None = None  # the freshness daemon's, if any
    recorded_at: datetime | None = None
    parents: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()  # every asset that depends on it, transitively


@dataclass(frozen=True)
class CheckResult:
    key: str  # "asset/key:check_name"
    asset: str
    passed: bool
    blocking: bool
    evaluated_at: datetime
    downstream: tuple[str, ...] = ()
    detail: str = ""
    run_id: str = ""


@dataclass(frozen=True)
class RunResult:
    job: str
    failed: bool  # the job's latest finished run failed
    at: datetime
    run_id: str = ""
    detail: str = ""
    downstream: tuple[str, ...] = field(default_factory=tuple)


def runbook_for(asset_key: str) -> str:
    parts = asset_key.split("/")
    return RUNBOOK_BY_ASSET.get(asset_key) or RUNBOOK_BY_ASSET.get(parts[0], "stale-asset")


def policy_state(asset: AssetFreshness, now: datetime) -> tuple[State, datetime | None]:
    """The time-window policy at ``now``, and since when it has held (None when PASS or unknown)."""
    if asset.last_updated is None:
        return "UNKNOWN", None
    if now - asset.last_updated > asset.fail_after:
        return "FAIL", asset.last_updated + asset.fail_after
    if asset.warn_after is not None and now - asset.last_updated > asset.warn_after:
        return "WARN", asset.last_updated + asset.warn_after
    return "PASS", None


def effective_state(asset: AssetFreshness, now: datetime) -> tuple[State, datetime | None]:
    """The worse of the policy here and the daemon's record (ignored once a newer update lands)."""
    state, since = policy_state(asset, now)
    recorded = asset.recorded_state
    outdated = (
        asset.recorded_at is not None
        and asset.last_updated is not None
        and asset.recorded_at < asset.last_updated
    )
    if recorded in _STATE_RANK and not outdated and _STATE_RANK[recorded] > _STATE_RANK.get(state, 0):
        return recorded, asset.recorded_at or now
    return state, since


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def freshness_alerts(assets: Iterable[AssetFreshness], now: datetime) -> list[Alert]:
    """One alert per stale asset whose parents are not stale at its severity (the cause)."""
    assets = list(assets)
    judged = {a.key: (a, *effective_state(a, now)) for a in assets}
    stale = {k: v for k, v in judged.items() if v[1] in _SEVERITY_OF_STATE}
    alerts = []
    for key, (asset, state, since) in sorted(stale.items()):
        severity = _SEVERITY_OF_STATE[state]
        parents = [stale[p] for p in asset.parents if p in stale]
        if any(RANK[_SEVERITY_OF_STATE[p[1]]] >= RANK[severity] for p in parents):
            continue  # a consequence of the parent's alert, which lists it
        held_back = [d for d in asset.downstream if d in stale]
        window = asset.fail_after if state == "FAIL" else asset.warn_after
        age = now - asset.last_updated if asset.last_updated else None
        title = (
            f"{key} is stale: last updated {_hours(age)} ago (freshness {state} after {_hours(window)})"
            if age is not None and window is not None
            else f"{key} is stale (freshness {state}, recorded by the freshness daemon)"
        )
        detail = (
            f"Last materialization {asset.last_updated.isoformat() if asset.last_updated else 'never'}."
            + (f" Also stale because of it: {', '.join(held_back)}." if held_back else "")
        )
        alerts.append(
            Alert(
                subject=f"freshness:{key}",
                severity=severity,
                title=title,
                since=since or now,
                detail=detail,
                downstream=asset.downstream,
                runbook=runbook_for(key),
            )
        )
    return alerts


def check_alerts(checks: Iterable[CheckResult]) -> list[Alert]:
    """A failed blocking check stopped the loop (PAGE); a failed advisory check is a WARN."""
    return [
        Alert(
            subject=f"check:{c.key}",
            severity="PAGE" if c.blocking else "WARN",
            title=f"{'blocking ' if c.blocking else ''}check {c.key} failed"
            + (": downstream assets were not updated" if c.blocking else ""),
            since=c.evaluated_at,
            detail=c.detail,
            downstream=c.downstream,
            runbook=RUNBOOK_FAILED_CHECK,
        )
        for c in checks
        if not c.passed
    ]


def run_alerts(runs: Iterable[RunResult], checks: Iterable[CheckResult] = ()) -> list[Alert]:
    """The design: pipeline failure -> PAGE. Resolved by the job's next successful run.

    A run stopped by a failed blocking check is left to that check's alert, which names the cause.
    """
    explained = {c.run_id for c in checks if not c.passed and c.blocking and c.run_id}
    return [
        Alert(
            subject=f"run:{r.job}",
            severity="PAGE",
            title=f"job {r.job} failed (run {r.run_id[:8]})",
            since=r.at,
            detail=r.detail,
            downstream=r.downstream,
            runbook=RUNBOOK_FAILED_RUN,
        )
        for r in runs
        if r.failed and r.run_id not in explained
    ]


def feature_lag_alert(oldest_pending: datetime | None, now: datetime, thresholds: Thresholds) -> list[Alert]:
    """Session features lag by the age of the oldest event the streaming updater has not folded in."""
    if oldest_pending is None:
        return []
    lag = (now - oldest_pending).total_seconds()
    if lag > thresholds.feature_lag_page_s:
        severity: Severity = "PAGE"
        limit = thresholds.feature_lag_page_s
    elif lag > thresholds.feature_lag_warn_s:
        severity, limit = "WARN", thresholds.feature_lag_warn_s
    else:
        return []
    return [
        Alert(
            subject="feature_lag:session_features",
            severity=severity,
            title=f"session features lag {lag / 60:.1f} min behind the event log (> {limit / 60:.0f} min)",
            since=oldest_pending + timedelta(seconds=limit),
            detail=f"Oldest event not yet in the online session features: {oldest_pending.isoformat()}.",
            downstream=("feast user_session (online)", "serving: session-aware retrieval and ranking"),
            runbook=RUNBOOK_FEATURE_LAG,
        )
    ]

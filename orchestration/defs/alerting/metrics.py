"""SLI breaches read from the service's Prometheus text (``/metrics``), as pure functions.

Counters are cumulative, so rates come from the difference between this scrape and the previous
one (kept by ``state.py``); the first scrape, or one after a service restart (a counter went down),
judges the totals since start. The names below are what the serving side is to export; a missing
counter means "not measured" and raises no alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from orchestration.defs.alerting.config import Thresholds
from orchestration.defs.alerting.rules import Alert

SCORES = "reco_scores_total"  # candidates scored by the ranker
NAN_SCORES = "reco_nan_scores_total"  # of which non-finite (replaced by the NaN guard)
RESPONSES = "reco_responses_total"  # recommendation responses, label level="0".."4"
DEFAULTS = "reco_population_defaults_total"  # responses ranked on population-default features
COUNTERS = (SCORES, NAN_SCORES, RESPONSES, DEFAULTS)


def counters(text: str) -> dict[str, float]:
    """Totals per counter of interest; ``reco_responses_total`` also per ``level``."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name if sample.name.endswith("_total") else f"{sample.name}_total"
            if name not in COUNTERS or sample.name.endswith(("_created", "_bucket")):
                continue
            totals[name] = totals.get(name, 0.0) + sample.value
            if name == RESPONSES and "level" in sample.labels:
                level_key = f"{RESPONSES}:level={sample.labels['level']}"
                totals[level_key] = totals.get(level_key, 0.0) + sample.value
    return totals


def _delta(now: dict[str, float], before: dict[str, float] | None) -> dict[str, float]:
    if before is None or any(now.get(k, 0.0) < v for k, v in before.items()):
        return dict(now)  # first scrape, or the service restarted
    return {k: v - before.get(k, 0.0) for k, v in now.items()}


@dataclass(frozen=True)
class SliJudgement:
    alerts: list[Alert]
    defaults_since: datetime | None  # when the current run of population defaults began


def sli_alerts(
    current: dict[str, float],
    previous: dict[str, float] | None,
    defaults_since: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    source: str = "service /metrics",
) -> SliJudgement:
    delta = _delta(current, previous)
    alerts: list[Alert] = []
    scored, nan = delta.get(SCORES, 0.0), delta.get(NAN_SCORES, 0.0)
    if scored > 0 and nan / scored > thresholds.nan_rate_page:
        alerts.append(
            Alert(
                subject="sli:nan_rate",
                severity="PAGE",
                title=f"ranker NaN rate {nan / scored:.3%} > {thresholds.nan_rate_page:.1%}",
                since=now,
                detail=f"{nan:.0f} of {scored:.0f} scores non-finite since the last scrape ({source}).",
                downstream=("serving: ranked responses",),
                runbook="bad-model-deployed",
            )
        )
    responses = delta.get(RESPONSES, 0.0)
    low = delta.get(f"{RESPONSES}:level=3", 0.0) + delta.get(f"{RESPONSES}:level=4", 0.0)
    if responses > 0 and low / responses > thresholds.fallback_l3_l4_rate_warn:
        alerts.append(
            Alert(
                subject="sli:fallback_l3_l4",
                severity="WARN",
                title=f"{low / responses:.2%} of responses from fallback levels 3/4 "
                f"(> {thresholds.fallback_l3_l4_rate_warn:.1%})",
                since=now,
                detail=f"{low:.0f} of {responses:.0f} responses were segment or global popular lists.",
                downstream=("serving: every surface",),
                runbook="feature-store-down",
            )
        )
    defaults_now = delta.get(DEFAULTS, 0.0) > 0
    since = (defaults_since or now) if defaults_now else None
    if since is not None and now - since > timedelta(seconds=thresholds.defaults_sustained_warn_s):
        alerts.append(
            Alert(
                subject="sli:population_defaults",
                severity="WARN",
                title=f"population-default features served for {(now - since).total_seconds() / 3600:.1f} h",
                since=since,
                detail="Users are ranked on population averages: the online store is missing their rows.",
                downstream=("serving: personalisation",),
                runbook="feature-store-down",
            )
        )
    return SliJudgement(alerts, since)

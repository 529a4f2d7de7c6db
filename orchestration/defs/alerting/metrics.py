"""SLI breaches read from the service's Prometheus text (``/metrics``), as pure functions.

Counters are cumulative, so rates come from the difference between this scrape and the previous
one (kept by ``state.py``); the first scrape, or one after a service restart (a counter went down),
judges the totals since start. The names are ``contracts.slis``'s, the ones the service exports
(``bento.observability.metrics``); a missing counter means "not measured" and raises no alert.
The serving model's age is read from its build timestamp (a gauge), so it is judged on every scrape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from contracts.slis import (
    DEFAULTS,
    FALLBACKS,
    FEATURE_BREAKER,
    MODEL_CREATED,
    NAN_RANKER_INPUTS,
    NAN_SCORES,
    PERSONALISATION_OFF,
    RANKER_INPUTS,
    RESPONSES,
    SCORES,
)
from orchestration.defs.alerting.config import Thresholds
from orchestration.defs.alerting.rules import Alert

COUNTERS = (SCORES, NAN_SCORES, RANKER_INPUTS, NAN_RANKER_INPUTS, RESPONSES, DEFAULTS)
GAUGES = (MODEL_CREATED, FEATURE_BREAKER)  # judged on each scrape, never differenced
# Global-list pages a user chose (personalisation off): level 4 by design, not a degradation.
OPTED_OUT = f"{FALLBACKS}:reason={PERSONALISATION_OFF}"


def counters(text: str) -> dict[str, float]:
    """Totals per counter of interest; ``reco_responses_total`` also per ``level``; the opted-out
    users' pages; and, as gauges (the highest over workers, not differenced), the newest serving
    model's build time and the feature-store breaker's state."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in GAUGES:
                totals[sample.name] = max(totals.get(sample.name, 0.0), sample.value)
                continue
            if sample.name == FALLBACKS and sample.labels.get("reason") == PERSONALISATION_OFF:
                totals[OPTED_OUT] = totals.get(OPTED_OUT, 0.0) + sample.value
                continue
            name = sample.name if sample.name.endswith("_total") else f"{sample.name}_total"
            if name not in COUNTERS or sample.name.endswith(("_created", "_bucket")):
                continue
            totals[name] = totals.get(name, 0.0) + sample.value
            if name == RESPONSES and "level" in sample.labels:
                level_key = f"{RESPONSES}:level={sample.labels['level']}"
                totals[level_key] = totals.get(level_key, 0.0) + sample.value
    return totals


def _delta(now: dict[str, float], before: dict[str, float] | None) -> dict[str, float]:
    now = {k: v for k, v in now.items() if k not in GAUGES}
    if before is None or any(now.get(k, 0.0) < v for k, v in before.items() if k not in GAUGES):
        return dict(now)  # first scrape, or the service restarted
    return {k: v - before.get(k, 0.0) for k, v in now.items()}


def _nan_alert(
    subject: str, what: str, nan: float, total: float, limit: float, now: datetime, source: str
) -> Alert:
    return Alert(
        subject=subject,
        severity="PAGE",
        title=f"ranker {what} NaN rate {nan / total:.3%} > {limit:.1%}",
        since=now,
        detail=f"{nan:.0f} of {total:.0f} {what} non-finite since the last scrape ({source}).",
        downstream=("serving: ranked responses",),
        runbook="bad-model-deployed",
    )


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
    limit = thresholds.nan_rate_page
    for subject, what, total_name, nan_name in (
        ("sli:nan_rate", "scores", SCORES, NAN_SCORES),
        ("sli:nan_inputs", "inputs", RANKER_INPUTS, NAN_RANKER_INPUTS),
    ):
        total, nan = delta.get(total_name, 0.0), delta.get(nan_name, 0.0)
        if total > 0 and nan / total > limit:
            alerts.append(_nan_alert(subject, what, nan, total, limit, now, source))
    if (built := current.get(MODEL_CREATED)) is not None:
        age = now - datetime.fromtimestamp(built, UTC)
        if age > timedelta(seconds=thresholds.serving_model_age_page_s):
            alerts.append(
                Alert(
                    subject="sli:serving_model_age",
                    severity="PAGE",
                    title=f"the service serves a model {age.total_seconds() / 3600:.1f} h old "
                    f"(> {thresholds.serving_model_age_page_s / 3600:.0f} h)",
                    since=datetime.fromtimestamp(built, UTC)
                    + timedelta(seconds=thresholds.serving_model_age_page_s),
                    detail="The running service was not restarted on a newer promoted version, or no "
                    f"version was promoted ({source}).",
                    downstream=("serving: every surface",),
                    runbook="stale-model",
                )
            )
    opted_out = delta.get(OPTED_OUT, 0.0)  # chosen by users, not a degradation
    responses = delta.get(RESPONSES, 0.0) - opted_out
    low = delta.get(f"{RESPONSES}:level=3", 0.0) + delta.get(f"{RESPONSES}:level=4", 0.0) - opted_out
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
    if current.get(FEATURE_BREAKER, 0.0) >= 1.0:
        alerts.append(
            Alert(
                subject="sli:feature_breaker",
                severity="WARN",
                title="the feature-store circuit breaker is open: pages are ranked on cached features",
                since=now,
                detail="The online reads' p99 passed the breaker's threshold over its window in at least "
                f"one worker; it retries by itself after open_s ({source}).",
                downstream=("serving: personalisation",),
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

"""On-call sensors: the loop's health judged every minute, and at once when a run fails.

Both run one evaluation cycle: observe (``observe.py``) -> decide (``rules.py``, ``metrics.py``)
-> reconcile with what each notifier was told (``state.py``) -> deliver (``notifiers.py``). The
cycle is idempotent, so two sensors, a restart or a retried tick never page twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.alerting import metrics, observe, rules
from orchestration.defs.alerting.config import AlertsConfig, load_alerts_config
from orchestration.defs.alerting.notifiers import DeliveryError, notifiers
from orchestration.defs.alerting.state import AlertBook, Delivery, plan
from orchestration.defs.common.resources import PlatformResource

STATE_FILE = Path("alerts") / "state.db"
INTERVAL_S = 60


class AlertingResource(dg.ConfigurableResource):
    """Which alerts file to read; empty means ``$RECO_ALERTS_CONFIG`` or `config/alerts.yaml`."""

    config_file: str = ""

    def load(self) -> AlertsConfig:
        return load_alerts_config(Path(self.config_file) if self.config_file else None)


@dataclass(frozen=True)
class CycleResult:
    open: list[rules.Alert]
    sent: list[Delivery]
    failed: list[tuple[Delivery, str]]

    def summary(self) -> str:
        opened = ", ".join(f"{a.severity} {a.subject}" for a in self.open) or "none"
        return f"open: {opened}; sent {len(self.sent)}, failed {len(self.failed)}"


def judge(
    instance: dg.DagsterInstance,
    repository: dg.RepositoryDefinition,
    platform: PlatformResource,
    config: AlertsConfig,
    book: AlertBook,
    now: datetime,
) -> list[rules.Alert]:
    """Every alert that should be open now."""
    graph = repository.asset_graph
    jobs = [j.name for j in repository.get_all_jobs() if not j.name.startswith("__")]
    checks = observe.check_results(instance, graph)
    alerts = [
        *rules.freshness_alerts(observe.asset_freshness(instance, graph), now),
        *rules.check_alerts(checks),
        *rules.run_alerts(observe.run_results(instance, jobs), checks),
        *rules.feature_lag_alert(
            observe.oldest_pending_event(platform.settings.paths.event_log), now, config.thresholds
        ),
    ]
    if config.metrics_url and (text := observe.scrape(config.metrics_url, config.metrics_timeout_s)):
        current = metrics.counters(text)
        since = book.get("defaults_since")
        judged = metrics.sli_alerts(
            current,
            book.get("metrics_previous"),
            datetime.fromisoformat(since) if since else None,
            now,
            config.thresholds,
        )
        book.put("metrics_previous", current)
        book.put("defaults_since", judged.defaults_since.isoformat() if judged.defaults_since else None)
        alerts.extend(judged.alerts)
    return alerts


def run_cycle(
    instance: dg.DagsterInstance,
    repository: dg.RepositoryDefinition,
    platform: PlatformResource,
    config: AlertsConfig,
    log: Callable[[str], None],
    now: datetime | None = None,
) -> CycleResult:
    home = platform.settings.paths.home
    book = AlertBook(home / STATE_FILE)
    targets = notifiers(config, home)
    sent, failed = [], []
    with book.locked():
        now = now or datetime.now(UTC)
        alerts = judge(instance, repository, platform, config, book, now)
        todo = plan(book.delivered(), alerts, {name: t[0] for name, t in targets.items()})
        for delivery in todo:
            try:
                targets[delivery.notifier][1](delivery.action, delivery.alert)
            except DeliveryError as error:
                failed.append((delivery, str(error)))
                log(f"could not {delivery.action} {delivery.alert.subject} via {delivery.notifier}: {error}")
                continue
            book.record(delivery, now)
            sent.append(delivery)
    return CycleResult(alerts, sent, failed)


@dg.sensor(
    minimum_interval_seconds=INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Pages and warns on-call when the loop goes stale (freshness, failed checks and "
    "runs, session-feature lag, serving SLIs); resolves when it is fresh again.",
)
def loop_health_alerts(
    context: dg.SensorEvaluationContext, platform: PlatformResource, alerting: AlertingResource
) -> dg.SkipReason:
    result = run_cycle(context.instance, context.repository_def, platform, alerting.load(), context.log.error)
    return dg.SkipReason(result.summary())


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs the alert cycle as soon as a run of the loop fails (pipeline failure -> PAGE).",
)
def loop_failure_alert(
    context: dg.RunFailureSensorContext, platform: PlatformResource, alerting: AlertingResource
) -> None:
    result = run_cycle(context.instance, context.repository_def, platform, alerting.load(), context.log.error)
    run = context.dagster_run
    context.log.error(f"run {run.run_id} of {run.job_name} failed; {result.summary()}")

"""On-call signals: a failed run of the loop is written to the alert log with what and when."""

import json
from datetime import UTC, datetime

import dagster as dg

from contracts.settings import load_settings

ALERT_FILE = "alerts.jsonl"


def record_alert(kind: str, subject: str, detail: str) -> dict[str, str]:
    alert = {"at": datetime.now(UTC).isoformat(), "kind": kind, "subject": subject, "detail": detail}
    path = load_settings().paths.home / ALERT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(alert) + "\n")
    return alert


@dg.run_failure_sensor(description="Alerts on-call when a run of the feedback loop fails.")
def loop_failure_alert(context: dg.RunFailureSensorContext) -> None:
    alert = record_alert("run_failure", context.dagster_run.job_name, context.failure_event.message or "")
    context.log.error(f"ALERT {alert}")

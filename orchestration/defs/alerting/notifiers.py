"""Deliveries to people: JSON webhook, Slack-compatible webhook, PagerDuty Events v2, SMTP mail,
and the alerts.jsonl log. Each ``send`` raises ``DeliveryError`` on failure, so the book keeps the
delivery pending and the next sensor tick retries it.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from orchestration.defs.alerting.config import (
    AlertsConfig,
    EmailNotifier,
    PagerDutyNotifier,
    Severity,
    SlackNotifier,
    WebhookNotifier,
)
from orchestration.defs.alerting.rules import Alert
from orchestration.defs.alerting.state import Action

ALERT_LOG = "alerts.jsonl"
LOG_NOTIFIER = "alert-log"
SOURCE = "reco-platform"


class DeliveryError(RuntimeError):
    pass


def dedup_key(alert: Alert) -> str:
    """Stable per subject: PagerDuty folds trigger, escalation and resolve into one incident."""
    return f"{SOURCE}:{alert.subject}"


def message(action: Action, alert: Alert, runbook: str) -> dict[str, Any]:
    """The alert as one JSON object: what, how bad, since when, what depends on it, what to do."""
    return {
        "event": action,
        "source": SOURCE,
        "dedup_key": dedup_key(alert),
        "at": datetime.now(UTC).isoformat(),
        **alert.as_dict(),
        "runbook": runbook,
    }


def text(action: Action, alert: Alert, runbook: str) -> str:
    if action == "resolve":
        return f"RESOLVED {alert.subject}: {alert.title}"
    lines = [f"[{alert.severity}] {alert.title}", f"Since: {alert.since.isoformat()}"]
    if alert.detail:
        lines.append(alert.detail)
    if alert.downstream:
        lines.append(f"Depends on it: {', '.join(alert.downstream)}")
    lines.append(f"Runbook: {runbook}")
    return "\n".join(lines)


def _post(url: str, body: dict[str, Any], timeout_s: float) -> None:
    try:
        response = httpx.post(url, json=body, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise DeliveryError(f"{url}: {error}") from error
    if response.status_code >= 300:
        raise DeliveryError(f"{url}: HTTP {response.status_code} {response.text[:200]}")


def pagerduty_event(action: Action, alert: Alert, runbook: str, routing_key: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(alert),
    }
    if action == "trigger":
        event["payload"] = {
            "summary": f"[{alert.severity}] {alert.title}"[:1024],
            "source": SOURCE,
            "severity": "critical" if alert.severity == "PAGE" else "warning",
            "timestamp": alert.since.isoformat(),
            "component": alert.subject.split(":", 1)[-1],
            "class": alert.subject.split(":", 1)[0],
            "custom_details": {"detail": alert.detail, "downstream": list(alert.downstream)},
        }
        event["links"] = [{"href": runbook, "text": "runbook"}]
    return event


def send_email(config: EmailNotifier, action: Action, alert: Alert, runbook: str) -> None:
    mail = EmailMessage()
    prefix = "RESOLVED" if action == "resolve" else alert.severity
    mail["Subject"] = f"[{prefix}] {alert.title}"[:200]
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.recipients)
    mail["X-Reco-Dedup-Key"] = dedup_key(alert)
    mail.set_content(text(action, alert, runbook))
    opener = smtplib.SMTP_SSL if config.security == "tls" else smtplib.SMTP
    try:
        with opener(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"smtp {config.host}:{config.port}: {error}") from error


def append_log(path: Path, action: Action, alert: Alert, runbook: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(message(action, alert, runbook)) + "\n")


Send = Callable[[Action, Alert], None]


def notifiers(config: AlertsConfig, home: Path) -> dict[str, tuple[Severity, Send]]:
    """Name -> (minimum severity, send) for every configured notifier, plus the log when enabled."""
    out: dict[str, tuple[Severity, Send]] = {}

    def link(alert: Alert) -> str:
        return config.runbook_link(alert.runbook)

    for entry in config.notifiers:
        send: Send
        if isinstance(entry, PagerDutyNotifier):

            def send(a: Action, al: Alert, n: PagerDutyNotifier = entry) -> None:
                _post(n.url, pagerduty_event(a, al, link(al), n.routing_key), n.timeout_s)
        elif isinstance(entry, SlackNotifier):

            def send(a: Action, al: Alert, n: SlackNotifier = entry) -> None:
                _post(n.url, {"text": text(a, al, link(al))}, n.timeout_s)
        elif isinstance(entry, WebhookNotifier):

            def send(a: Action, al: Alert, n: WebhookNotifier = entry) -> None:
                _post(n.url, message(a, al, link(al)), n.timeout_s)
        else:

            def send(a: Action, al: Alert, n: EmailNotifier = entry) -> None:  # type: ignore[misc]
                send_email(n, a, al, link(al))

        out[entry.name] = (entry.min_severity, send)
    if config.log:
        log_path = home / ALERT_LOG
        out[LOG_NOTIFIER] = ("WARN", lambda a, al: append_log(log_path, a, al, link(al)))
    return out

"""`config/alerts.yaml`: where alerts go and at which thresholds, validated strictly at load.

Strict so a typo in an on-call file fails loudly at start-up instead of silencing a notifier.
``${NAME}`` in any string is read from the environment (secrets such as a PagerDuty routing key or
an SMTP password stay out of the file); a missing variable is named in the error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.settings import REPO_ROOT

ALERTS_CONFIG = REPO_ROOT / "config" / "alerts.yaml"
Severity = Literal["WARN", "PAGE"]
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


class _HttpNotifier(_Strict):
    name: str = Field(min_length=1)
    url: str
    timeout_s: float = Field(5.0, gt=0, le=60)
    min_severity: Severity = "WARN"

    _url = field_validator("url")(_http_url)


class WebhookNotifier(_HttpNotifier):
    """Any HTTP endpoint: the alert as one JSON object per trigger or resolve."""

    kind: Literal["webhook"]


class SlackNotifier(_HttpNotifier):
    """A Slack incoming webhook (or a compatible one: Mattermost, Rocket.Chat): ``{"text": ...}``."""

    kind: Literal["slack"]


class PagerDutyNotifier(_HttpNotifier):
    """PagerDuty Events API v2: trigger and resolve share a dedup_key, so PagerDuty opens one incident."""

    kind: Literal["pagerduty"]
    url: str = "https://events.pagerduty.com/v2/enqueue"
    routing_key: str = Field(min_length=1)
    min_severity: Severity = "PAGE"  # WARN goes to chat and mail, not to someone's phone


class EmailNotifier(_Strict):
    """Mail over SMTP (plain, STARTTLS or implicit TLS), one message per trigger or resolve."""

    kind: Literal["email"]
    name: str = Field(min_length=1)
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=60)
    min_severity: Severity = "WARN"


Notifier = Annotated[
    WebhookNotifier | SlackNotifier | PagerDutyNotifier | EmailNotifier, Field(discriminator="kind")
]


class Thresholds(_Strict):
    """The design's alert thresholds (part 9 and the SLO chapter); freshness windows live on the assets."""

    feature_lag_warn_s: float = Field(300.0, gt=0)
    feature_lag_page_s: float = Field(1800.0, gt=0)
    nan_rate_page: float = Field(0.001, ge=0, le=1)
    serving_model_age_page_s: float = Field(48 * 3600.0, gt=0)  # SLI 4, read from the service
    fallback_l3_l4_rate_warn: float = Field(0.001, ge=0, le=1)
    defaults_sustained_warn_s: float = Field(3600.0, ge=0)


class AlertsConfig(_Strict):
    runbook: str = "docs/operations.md"  # a path in the repository or a URL to the same page
    log: bool = True  # also append every trigger and resolve to $RECO_HOME/alerts.jsonl
    metrics_url: str | None = None  # the service's Prometheus endpoint, for the SLI rules
    metrics_timeout_s: float = Field(2.0, gt=0, le=30)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    notifiers: list[Notifier] = Field(default_factory=list)

    @field_validator("metrics_url")
    @classmethod
    def _metrics_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("notifiers")
    @classmethod
    def _unique_names(cls, value: list[Any]) -> list[Any]:
        names = [n.name for n in value]
        if len(names) != len(set(names)):
            raise ValueError(f"notifier names must be unique, got {names}")
        return value

    def runbook_link(self, anchor: str) -> str:
        return f"{self.runbook}#{anchor}"


def _expand(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ValueError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV.sub(lookup, value)
    return value


def load_alerts_config(path: Path | None = None) -> AlertsConfig:
    """The file at ``path``, else ``$RECO_ALERTS_CONFIG``, else `config/alerts.yaml`."""
    chosen = path or Path(os.environ.get("RECO_ALERTS_CONFIG", ALERTS_CONFIG))
    raw = yaml.safe_load(chosen.read_text()) or {}
    return AlertsConfig.model_validate(_expand(raw, chosen.name))

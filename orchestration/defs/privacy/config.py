"""Retention horizons and the erasure deadline: typed, with their defaults in ``config/retention.yaml``."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from contracts.settings import REPO_ROOT

CONFIG_ENV = "RECO_RETENTION_CONFIG"
DEFAULT_FILE = REPO_ROOT / "config" / "retention.yaml"


class RetentionConfig(BaseModel):
    """How long data is kept. Unknown keys are errors, so a typo cannot silently keep data forever."""

    model_config = ConfigDict(extra="forbid")

    raw_events_days: int = Field(default=90, gt=0)
    aggregates_days: int = Field(default=730, gt=0)
    erasure_deadline_hours: int = Field(default=720, gt=0)
    clock: Literal["data", "wall"] = "data"

    @property
    def raw_events(self) -> timedelta:
        return timedelta(days=self.raw_events_days)

    @property
    def aggregates(self) -> timedelta:
        return timedelta(days=self.aggregates_days)

    @property
    def erasure_deadline(self) -> timedelta:
        return timedelta(hours=self.erasure_deadline_hours)


def load_retention_config(path: Path | None = None) -> RetentionConfig:
    source = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_FILE)
    return RetentionConfig.model_validate(yaml.safe_load(source.read_text()) or {})

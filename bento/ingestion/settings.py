"""Ingestion and read limits from `config/ingestion.yaml` (typed, with the defaults in one place)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from contracts.settings import REPO_ROOT

INGESTION_CONFIG = REPO_ROOT / "config" / "ingestion.yaml"


class RateLimit(BaseModel):
    events_per_second: float = Field(2000.0, gt=0)
    burst: float = Field(5000.0, gt=0)


class Bucket(BaseModel):
    per_second: float = Field(gt=0)  # sustained
    burst: float = Field(gt=0)  # bucket size: how far a caller may run ahead of the rate


class ReadRateLimit(BaseModel):
    """/recommend and /related: per client (its API key) and per user (across every client)."""

    per_client: Bucket = Field(default_factory=lambda: Bucket(per_second=1000, burst=2000))
    per_user: Bucket = Field(default_factory=lambda: Bucket(per_second=2, burst=30))


class SessionUpdaterConfig(BaseModel):
    """The streaming consumer that turns logged events into session features."""

    # in_process: a thread of the service (embedded profile); external: its own process per log
    # (`python -m bento.ingestion.session_updater`), for several service processes on one log.
    mode: Literal["in_process", "external"] = "in_process"
    poll_interval_s: float = Field(0.02, gt=0)  # idle wait; event-to-feature lag is about this plus a push
    batch_size: int = Field(500, ge=1)


class ArchiverConfig(BaseModel):
    """The consumer that moves logged events into hourly Parquet partitions."""

    # scheduled: the hourly `archive_events` job drains the log (embedded); external: its own
    # process, `python -m orchestration.archiver`, and the job only records its progress (production).
    mode: Literal["scheduled", "external"] = "scheduled"
    poll_interval_s: float = Field(5.0, gt=0)
    batch_size: int = Field(50_000, ge=1)


class IngestionConfig(BaseModel):
    max_batch_size: int = Field(1000, ge=1)
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    read_rate_limit: ReadRateLimit = Field(default_factory=ReadRateLimit)
    session_updater: SessionUpdaterConfig = Field(default_factory=SessionUpdaterConfig)
    archiver: ArchiverConfig = Field(default_factory=ArchiverConfig)


def load_ingestion_config(path: Path | None = None) -> IngestionConfig:
    """The file at ``path``, else ``$RECO_INGESTION_CONFIG``, else `config/ingestion.yaml`."""
    chosen = path or Path(os.environ.get("RECO_INGESTION_CONFIG", INGESTION_CONFIG))
    return IngestionConfig.model_validate(yaml.safe_load(chosen.read_text()) or {})

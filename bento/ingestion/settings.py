"""Ingestion limits from `config/ingestion.yaml` (typed, with the defaults in one place)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from contracts.settings import REPO_ROOT

INGESTION_CONFIG = REPO_ROOT / "config" / "ingestion.yaml"


class RateLimit(BaseModel):
    events_per_second: float = Field(2000.0, gt=0)
    burst: float = Field(5000.0, gt=0)


class IngestionConfig(BaseModel):
    max_batch_size: int = Field(1000, ge=1)
    rate_limit: RateLimit = Field(default_factory=RateLimit)


def load_ingestion_config(path: Path | None = None) -> IngestionConfig:
    """The file at ``path``, else ``$RECO_INGESTION_CONFIG``, else `config/ingestion.yaml`."""
    chosen = path or Path(os.environ.get("RECO_INGESTION_CONFIG", INGESTION_CONFIG))
    return IngestionConfig.model_validate(yaml.safe_load(chosen.read_text()) or {})

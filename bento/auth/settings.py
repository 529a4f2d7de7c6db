"""Access settings from `config/auth.yaml` (typed, with the defaults in one place)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from contracts.settings import REPO_ROOT

AUTH_CONFIG = REPO_ROOT / "config" / "auth.yaml"


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt `requierd: false` must not pass silently

    required: bool = True


def load_auth_config(path: Path | None = None) -> AuthConfig:
    """The file at ``path``, else ``$RECO_AUTH_CONFIG``, else `config/auth.yaml`."""
    chosen = path or Path(os.environ.get("RECO_AUTH_CONFIG", AUTH_CONFIG))
    return AuthConfig.model_validate(yaml.safe_load(chosen.read_text()) or {})

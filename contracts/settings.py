"""Where the platform keeps its state and which data it learns from: one typed place.

Everything is read from environment variables with defaults, so the embedded profile needs no
configuration and the production profile is configuration only (see ``config/profiles/``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from contracts.funnel_config import FUNNEL_FILE, FunnelConfig, load_funnel_config

WorldSize = Literal["tiny", "demo", "serving", "large"]
SourceKind = Literal["demo", "movielens", "interactions"]

REPO_ROOT = Path(__file__).resolve().parent.parent


class SourceConfig(BaseModel):
    """The data the loop learns from: the generated demo world or a real dataset on disk."""

    kind: SourceKind = "demo"
    size: WorldSize = "demo"
    seed: int = 7
    path: Path | None = None
    # Generic interaction files: "user=uid,item=iid,timestamp=ts,event_type=kind,rating=stars"
    columns: str | None = None
    separator: str | None = None


class PlatformPaths(BaseModel):
    """Every file the embedded profile writes lives under one home directory."""

    home: Path

    @property
    def world(self) -> Path:
        return self.home / "world"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse"

    @property
    def features(self) -> Path:
        return self.home / "features"

    @property
    def feast(self) -> Path:
        return self.home / "feast"

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    @property
    def live_index(self) -> Path:
        """Indices the scheduled rebuild publishes between daily bundles (serving swaps them in)."""
        return self.artifacts / "live_index"

    @property
    def live_candidates(self) -> Path:
        """Source lists refreshed between daily bundles (hourly trending)."""
        return self.artifacts / "live_candidates"

    @property
    def trust(self) -> Path:
        """Per-user trust scores and the item review queue (``orchestration.defs.trust``)."""
        return self.home / "trust"

    @property
    def event_log(self) -> Path:
        return self.home / "event_log"

    @property
    def filter_store(self) -> Path:
        return self.home / "serving" / "filter_store.db"

    @property
    def user_controls(self) -> Path:
        return self.home / "serving" / "user_controls.db"

    @property
    def bentoml_home(self) -> Path:
        return self.home / "bentoml"

    @property
    def api_keys(self) -> Path:
        """Hashed API keys (bento/auth/store.py): the embedded profile's key store."""
        return self.home / "auth" / "api_keys.db"

    @property
    def local_keys(self) -> Path:
        """The keys `make run` made for this machine, in plain text (mode 0600): a developer file."""
        return self.home / "auth" / "local_keys.json"

    @property
    def log_salt(self) -> Path:
        """The salt of user-id hashes in logs, when ``RECO_LOG_SALT`` does not give one."""
        return self.home / "auth" / "log_salt"

    @property
    def audit_log(self) -> Path:
        """Every admin call, one JSON line each, appended and fsynced (bento/auth/audit.py)."""
        return self.home / "audit" / "admin.jsonl"


class PlatformSettings(BaseModel):
    paths: PlatformPaths
    source: SourceConfig = Field(default_factory=SourceConfig)
    feast_repo: Path = REPO_ROOT / "feature_repo"
    funnel_file: Path = FUNNEL_FILE

    def funnel(self) -> FunnelConfig:
        """The funnel's configuration tree, read once per process (again only if the file changes)."""
        return _funnel_config(self.funnel_file, self.funnel_file.stat().st_mtime_ns)


@functools.cache
def _funnel_config(path: Path, mtime_ns: int) -> FunnelConfig:
    return load_funnel_config(path)


def load_settings(environ: dict[str, str] | None = None) -> PlatformSettings:
    """Settings from ``RECO_*`` environment variables (defaults give the embedded demo)."""
    env = os.environ if environ is None else environ
    home = Path(env.get("RECO_HOME", REPO_ROOT / "data")).resolve()
    source = SourceConfig(
        kind=env.get("RECO_SOURCE", "demo"),  # type: ignore[arg-type]
        size=env.get("RECO_WORLD_SIZE", "demo"),  # type: ignore[arg-type]
        seed=int(env.get("RECO_SEED", "7")),
        path=Path(env["RECO_SOURCE_PATH"]).resolve() if env.get("RECO_SOURCE_PATH") else None,
        columns=env.get("RECO_SOURCE_COLUMNS") or None,
        separator=env.get("RECO_SOURCE_SEPARATOR") or None,
    )
    funnel = Path(env["RECO_FUNNEL_CONFIG"]).resolve() if env.get("RECO_FUNNEL_CONFIG") else FUNNEL_FILE
    return PlatformSettings(paths=PlatformPaths(home=home), source=source, funnel_file=funnel)

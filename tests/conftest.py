"""Shared fixtures: one tiny world run through the whole loop per test session.

The platform's home (and BentoML's and Dagster's) point at a temporary directory before any
framework is imported, so tests never touch a developer's `data/`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="reco-test-"))
os.environ["RECO_HOME"] = str(_HOME)
os.environ["BENTOML_HOME"] = str(_HOME / "bentoml")
os.environ["RECO_WORLD_SIZE"] = "tiny"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("FEAST_USAGE", "False")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def platform_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def tiny_platform(platform_home: Path):
    """The full loop materialized once on the tiny world; yields (resource, run result)."""
    import dagster as dg

    from orchestration.defs.common.resources import PlatformResource
    from orchestration.materialize import materialize_all

    platform = PlatformResource(
        home=str(platform_home), source_kind="demo", world_size="tiny", seed=7, progress=False
    )
    result = materialize_all(platform, dg.DagsterInstance.ephemeral())
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return platform, result

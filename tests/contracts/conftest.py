"""Shared fixtures: one tiny demo world per test session, and the real MovieLens 100K sample."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.settings import REPO_ROOT
from contracts.world.generator import generate_world
from contracts.world.io import WorldTables, read_world

END = datetime(2025, 1, 1, tzinfo=UTC)
SEED = 7
ML_100K = REPO_ROOT.parent / "shared" / "datasets" / "ml-100k"


@pytest.fixture(scope="session")
def world_end() -> datetime:
    """The fixed end of the tiny world's window (so every run generates the same world)."""
    return END


@pytest.fixture(scope="session")
def world_seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "world"
    generate_world(out, "tiny", SEED, end_time=END, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_tables(tiny_world: Path) -> WorldTables:
    return read_world(tiny_world)


@pytest.fixture(scope="session")
def ml_100k() -> Path:
    if not (ML_100K / "u.data").is_file():
        pytest.skip(f"MovieLens 100K sample not found at {ML_100K}")
    return ML_100K

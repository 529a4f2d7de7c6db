"""The production pointer: which registered model version serves, shared by the loop and serving.

The model registry (``orchestration.defs.serving.registry``) writes it when a candidate passes the
promotion gate, or when an operator promotes or rolls back; the service reads it at start-up. It
lives here, framework-free, because serving must not import the orchestration package.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

BUNDLE_MODEL = "reco_bundle"  # the BentoML model name every registered version is stored under
POINTER_FILE = "production.json"
HISTORY_LIMIT = 50  # past deployments remembered for `rollback` without a version


class Deployment(BaseModel):
    """One version put into production, with the offline metrics it was judged by."""

    version: str
    model_tag: str
    bento_tag: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    promoted_at: datetime
    reason: str  # "promotion gate passed", "manual promote", "rollback"


class ProductionPointer(BaseModel):
    current: Deployment
    history: list[Deployment] = Field(default_factory=list)  # earlier deployments, newest first

    def moved_to(self, deployment: Deployment) -> ProductionPointer:
        history = [self.current, *self.history][:HISTORY_LIMIT]
        return ProductionPointer(current=deployment, history=history)


def registry_dir(home: Path) -> Path:
    """``$RECO_HOME/registry``: the pointer, gate reports and the archive of older versions."""
    return home / "registry"


def read_production(home: Path) -> ProductionPointer | None:
    path = registry_dir(home) / POINTER_FILE
    if not path.exists():
        return None
    return ProductionPointer.model_validate_json(path.read_text())


def production_tag(home: Path) -> str | None:
    """The model tag serving should load, or None before the first promotion."""
    pointer = read_production(home)
    return None if pointer is None else pointer.current.model_tag


def write_atomic(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a torn write, even across a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


@contextmanager
def pointer_lock(home: Path) -> Iterator[None]:
    """Serialize read-modify-write of the pointer between processes (CLI, Dagster runs)."""
    directory = registry_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_production(home: Path, pointer: ProductionPointer) -> None:
    write_atomic(registry_dir(home) / POINTER_FILE, pointer.model_dump_json(indent=2))

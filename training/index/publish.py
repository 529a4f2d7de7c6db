"""Publishing rebuilt indices so a running server can swap them in without ever reading half a file.

The scheduled rebuild writes a complete new directory next to the old ones, then replaces one small
pointer file (``CURRENT.json``) with ``os.replace``, which is atomic on POSIX: a reader sees either
the previous index or the new one. Directories are per model version, because an item index is
only meaningful with the user tower that shares its embedding space. Old builds are pruned, but
the one the pointer names is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

POINTER = "CURRENT.json"


def publish(
    root: str | Path, model_version: str, write: Callable[[Path], dict[str, Any]], keep: int = 3
) -> Path:
    """Build into a fresh directory with ``write(directory)`` (returns metadata), then point to it.

    Layout: ``root/<model_version>/<UTC stamp>/`` and ``root/<model_version>/CURRENT.json``.
    """
    base = Path(root) / model_version
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = base / f".{stamp}.partial"
    metadata = write(staging)
    final = base / stamp
    staging.rename(final)  # a crash before this leaves only a ".partial" directory, never pointed to
    pointer = {
        "path": stamp,
        "model_version": model_version,
        "built_at": datetime.now(UTC).isoformat(),
        **metadata,
    }
    tmp = base / f".{POINTER}.{stamp}"
    with tmp.open("w") as out:
        json.dump(pointer, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, base / POINTER)
    _prune(base, keep, current=stamp)
    return final


def current(root: str | Path, model_version: str) -> tuple[Path, dict[str, Any]] | None:
    """The published directory for ``model_version`` and its pointer metadata; None before any."""
    base = Path(root) / model_version
    try:
        pointer = json.loads((base / POINTER).read_text())
    except FileNotFoundError:
        return None
    return base / pointer["path"], pointer


def _prune(base: Path, keep: int, current: str) -> None:
    builds = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in builds[: max(len(builds) - keep, 0)]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for partial in base.glob(".*.partial"):  # left by crashed builds older than this one
        if partial.name < f".{current}.partial":
            shutil.rmtree(partial, ignore_errors=True)

"""Removing users from every offline place: Parquet tables and the retrieval model's user index.

Rather than a list of known tables (which a new asset would silently escape), every Parquet file
under ``$RECO_HOME`` with a ``user_id`` column is filtered: the world copy, warehouse tables, event
partitions, offline feature sources, training sets, staged and bundled artifacts. Each rewrite is
atomic (temp file, rename), so a crash leaves the old or the new file. The event log is not here:
it belongs to the serving process (``EventLog.erase_user``). Archived model versions
(``*.bentomodel`` tarballs from the registry) hold history and user embeddings too: each is unpacked,
scrubbed the same way and repacked in place.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from training.retrieval import SERVED_USER_EMBEDDINGS_FILE, USER_EMBEDDINGS_FILE

USER_COLUMN = "user_id"
USER_IDS_FILE = "user_ids.json"
SKIPPED_DIRS = ("event_log",)  # erased by its writer, never rewritten from outside
ARCHIVE_GLOB = "*.bentomodel"
# Repack with the compression the archive came with (BentoML writes xz; accept the others too).
TAR_WRITE_MODES = {b"\xfd7zXZ": "w:xz", b"\x1f\x8b": "w:gz", b"BZh": "w:bz2"}


def place_of(path: Path, home: Path) -> str:
    """A short name for where a file lives, for the counts: ``warehouse/event_partitions``, ``features``…"""
    parts = path.relative_to(home).parts
    if parts[:2] == ("warehouse", "event_partitions"):
        return "event_partitions"
    if parts[0] == "warehouse" and len(parts) == 2:
        return f"warehouse/{Path(parts[1]).stem}"
    if parts[0] == "features" and len(parts) == 2:
        return f"features/{Path(parts[1]).stem}"
    return parts[0]


def _parquet_files(home: Path) -> Iterable[Path]:
    for path in sorted(home.rglob("*.parquet")):
        if path.relative_to(home).parts[0] not in SKIPPED_DIRS:
            yield path


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.scrub.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def scrub_parquet(path: Path, users: set[str]) -> int:
    """Drop the users' rows from one file (rewritten only if it held any); returns rows dropped."""
    handle = pq.ParquetFile(path)  # one file, not a hive dataset: no partition columns added
    if USER_COLUMN not in handle.schema_arrow.names:
        return 0
    table = handle.read()
    doomed = pc.is_in(table[USER_COLUMN], value_set=pa.array(sorted(users), type=pa.string()))
    dropped = int(pc.sum(doomed).as_py() or 0)
    if dropped:
        _write_atomic(table.filter(pc.invert(pc.fill_null(doomed, False))), path)
    return dropped


def scrub_user_index(directory: Path, users: set[str]) -> int:
    """Remove users from a retrieval model's user ids and both embedding files (rows stay aligned)."""
    ids: list[str] = json.loads((directory / USER_IDS_FILE).read_text())
    keep = [i for i, user in enumerate(ids) if user not in users]
    dropped = len(ids) - len(keep)
    if dropped:
        for name in (USER_EMBEDDINGS_FILE, SERVED_USER_EMBEDDINGS_FILE):
            if not (directory / name).exists():
                continue
            embeddings = np.load(directory / name)[keep]
            tmp = directory / f".{name}.scrub.tmp.npy"
            np.save(tmp, embeddings)
            os.replace(tmp, directory / name)
        ids_tmp = directory / f".{USER_IDS_FILE}.scrub.tmp"
        ids_tmp.write_text(json.dumps([ids[i] for i in keep]))
        os.replace(ids_tmp, directory / USER_IDS_FILE)
    return dropped


def scrub_home(home: Path, users: set[str]) -> dict[str, int]:
    """Remove ``users`` everywhere offline under ``home``; returns rows dropped per place."""
    counts: Counter[str] = Counter()
    if not users:
        return {}
    for path in _parquet_files(home):
        dropped = scrub_parquet(path, users)
        if dropped:
            counts[place_of(path, home)] += dropped
    for ids_file in sorted(home.rglob(USER_IDS_FILE)):
        if (ids_file.parent / USER_EMBEDDINGS_FILE).exists():
            dropped = scrub_user_index(ids_file.parent, users)
            if dropped:
                counts[f"user_embeddings/{place_of(ids_file, home)}"] += dropped
    for archive in sorted(home.rglob(ARCHIVE_GLOB)):
        dropped = scrub_archive(archive, users)
        if dropped:
            counts[f"archives/{place_of(archive, home)}"] += dropped
    return dict(counts)


def scrub_archive(archive: Path, users: set[str]) -> int:
    """Scrub an archived model version in place; returns rows and user vectors dropped."""
    with archive.open("rb") as handle:
        head = handle.read(8)
    mode = next((m for magic, m in TAR_WRITE_MODES.items() if head.startswith(magic)), "w")
    with tempfile.TemporaryDirectory(prefix="scrub-", dir=archive.parent) as tmp:
        root = Path(tmp) / "unpacked"
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(root, filter="data")
        inner = scrub_home(root, users)
        dropped = sum(inner.values())
        if dropped:
            repacked = Path(tmp) / archive.name
            with tarfile.open(repacked, mode) as tar:  # type: ignore[call-overload]
                for entry in sorted(root.iterdir()):
                    tar.add(entry, arcname=entry.name)
            os.replace(repacked, archive)
    return dropped

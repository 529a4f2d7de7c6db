"""The item review queue: manipulation flags waiting for a person, under ``$RECO_HOME/trust/``.

``review_queue.parquet`` has one row per (item, signal) ever flagged: its status (``open`` until a
reviewer sets ``dismissed`` or ``confirmed``), when it was first and last flagged, whether the
latest run still flags it, and the evidence (counts, ratio, concentration). The accounts behind each
flag are in ``review_queue_accounts.parquet`` (a ``user_id`` column: erasure scrubs it). A run
updates evidence and keeps every reviewer's decision; nothing here changes an item or a list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from contracts.settings import PlatformPaths
from training.trust.manipulation import EVIDENCE_COLUMNS, FLAG_COLUMNS

QUEUE_FILE = "review_queue.parquet"
ACCOUNTS_FILE = "review_queue_accounts.parquet"
KEY = ["item_id", "signal"]
REVIEW_COLUMNS = ["status", "first_flagged_at", "last_flagged_at", "active", "reviewed_by", "reviewed_at"]
QUEUE_COLUMNS = [*KEY, *REVIEW_COLUMNS, *[c for c in FLAG_COLUMNS if c not in KEY]]
Status = Literal["open", "dismissed", "confirmed"]
# Typed even when empty: an all-null column would be written as Arrow's null type, which erasure's
# rewrite (and any reader expecting strings) cannot filter.
TEXT = ["item_id", "signal", "status", "reviewed_by", "reasons", "evidence", "user_id"]


def queue_path(paths: PlatformPaths) -> Path:
    return paths.trust / QUEUE_FILE


def empty_queue() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in QUEUE_COLUMNS})


def read_queue(paths: PlatformPaths) -> pd.DataFrame:
    path = queue_path(paths)
    return pd.read_parquet(path) if path.exists() else empty_queue()


def merge_flags(queue: pd.DataFrame, flags: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """The queue after one run: new (item, signal) pairs open, known ones get fresh evidence and
    keep their reviewer's status; pairs the run no longer flags stay, inactive, with their last
    evidence."""
    fresh, old = flags.set_index(KEY), queue.set_index(KEY)
    rows = old.index.union(fresh.index)
    evidence = [c for c in FLAG_COLUMNS if c not in KEY]
    out = old[REVIEW_COLUMNS].reindex(rows)
    out["active"] = rows.isin(fresh.index)
    out["status"] = out["status"].fillna("open")
    first = pd.to_datetime(out["first_flagged_at"], utc=True)  # typed first: no object downcast
    out["first_flagged_at"] = first.fillna(now)
    out.loc[out["active"], "last_flagged_at"] = now
    out = pd.concat([out, fresh[evidence].reindex(rows).combine_first(old[evidence].reindex(rows))], axis=1)
    for column in ("first_flagged_at", "last_flagged_at", "reviewed_at", "as_of"):
        out[column] = pd.to_datetime(out[column], utc=True)
    return out.reset_index()[QUEUE_COLUMNS].sort_values(KEY, kind="stable").reset_index(drop=True)


def write_queue(paths: PlatformPaths, queue: pd.DataFrame, accounts: pd.DataFrame) -> None:
    """Replace the queue and the flagged accounts (the latest run's) atomically."""
    paths.trust.mkdir(parents=True, exist_ok=True)
    parts = ((queue, QUEUE_FILE, QUEUE_COLUMNS), (accounts, ACCOUNTS_FILE, EVIDENCE_COLUMNS))
    for frame, name, columns in parts:
        path = paths.trust / name
        tmp = path.with_name(f".{name}.tmp")
        typed = frame[columns].astype({c: "string" for c in columns if c in TEXT})
        typed.to_parquet(tmp, index=False)
        tmp.replace(path)


def resolve(
    paths: PlatformPaths, item_id: str, signal: str, status: Status, reviewer: str, now: pd.Timestamp
) -> pd.DataFrame:
    """Record a reviewer's decision on one flag; returns the queue (KeyError when not queued)."""
    queue = read_queue(paths)
    hit = (queue["item_id"] == item_id) & (queue["signal"] == signal)
    if not hit.any():
        raise KeyError(f"{item_id}/{signal} is not in the review queue")
    queue.loc[hit, ["status", "reviewed_by", "reviewed_at"]] = [status, reviewer, now]
    accounts_path = paths.trust / ACCOUNTS_FILE
    accounts = (
        pd.read_parquet(accounts_path) if accounts_path.exists() else pd.DataFrame(columns=EVIDENCE_COLUMNS)
    )
    write_queue(paths, queue, accounts)
    return queue


def open_flags(queue: pd.DataFrame) -> pd.DataFrame:
    return queue[queue["status"] == "open"]

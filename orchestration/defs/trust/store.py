"""Where trust lives under the platform home, and how consumers attach it to the events they read.

``$RECO_HOME/trust/user_trust.parquet`` holds one row per scored account (a ``user_id`` column, so
an erasure request scrubs it with every other table). Consumers call :func:`with_trust` on the
events they read: each event gets its account's weight; an account the scores have not seen yet, or
a home where trust was never computed, counts fully.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contracts.settings import PlatformPaths
from contracts.trust import TRUST_WEIGHT

USER_TRUST_FILE = "user_trust.parquet"


def user_trust_path(paths: PlatformPaths) -> Path:
    return paths.trust / USER_TRUST_FILE


def write_user_trust(paths: PlatformPaths, table: pd.DataFrame) -> Path:
    """Replace the scores atomically (temp file, rename)."""
    path = user_trust_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    table.astype({"user_id": "string", "reasons": "string"}).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_weights(paths: PlatformPaths) -> pd.Series:
    """``user_id`` → weight of the latest scores (empty when trust was never computed)."""
    path = user_trust_path(paths)
    if not path.exists():
        return pd.Series(dtype="float64")
    table = pd.read_parquet(path, columns=["user_id", "weight"])
    return pd.Series(table["weight"].to_numpy("float64"), index=table["user_id"].astype(str))


def attach(events: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """``events`` with a ``trust_weight`` column (1.0 for accounts without a score)."""
    mapped = events["user_id"].astype(str).map(weights) if len(weights) else None
    column = 1.0 if mapped is None else mapped.fillna(1.0).to_numpy("float64")
    return events.assign(**{TRUST_WEIGHT: column})


def with_trust(paths: PlatformPaths, events: pd.DataFrame) -> pd.DataFrame:
    """The events a model or list is built from, each with its account's trust weight."""
    return attach(events, read_weights(paths))

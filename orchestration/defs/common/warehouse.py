"""Reading the curated tables the ingestion assets write (one place for their paths)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.settings import PlatformPaths


def table_path(paths: PlatformPaths, name: str) -> Path:
    return paths.warehouse / f"{name}.parquet"


def read_table(paths: PlatformPaths, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(table_path(paths, name), columns=columns)


def positive_events(events: pd.DataFrame) -> pd.DataFrame:
    """The engagements (clicks, purchases, ...): what history, exclusion and labels are made of."""
    return events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]

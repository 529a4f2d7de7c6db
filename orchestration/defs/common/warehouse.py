"""Reading the curated tables the ingestion assets write (one place for their paths)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contracts.settings import PlatformPaths


def table_path(paths: PlatformPaths, name: str) -> Path:
    return paths.warehouse / f"{name}.parquet"


def read_table(paths: PlatformPaths, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(table_path(paths, name), columns=columns)

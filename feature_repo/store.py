"""Opening the feature store for a profile: the embedded one or any `feature_store.*.yaml`."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureStore

from contracts.settings import PlatformSettings

PROFILE_ENV = "RECO_FEAST_CONFIG"
DEFAULT_CONFIG = "feature_store.yaml"

SESSION_LOG_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("event_timestamp", pa.timestamp("us", tz="UTC")),
        ("session_item_ids", pa.list_(pa.string())),
        ("session_categories", pa.list_(pa.string())),
        ("session_last_category", pa.string()),
        ("session_clicks", pa.int64()),
        ("session_events", pa.int64()),
    ]
)


def open_store(settings: PlatformSettings) -> FeatureStore:
    """The store for ``settings``; the YAML profile comes from ``RECO_FEAST_CONFIG`` if set."""
    os.environ["RECO_HOME"] = str(settings.paths.home)  # feature_store.yaml expands ${RECO_HOME}
    settings.paths.feast.mkdir(parents=True, exist_ok=True)
    config_name = os.environ.get(PROFILE_ENV, DEFAULT_CONFIG)
    return FeatureStore(
        repo_path=str(settings.feast_repo), fs_yaml_file=Path(settings.feast_repo) / config_name
    )


def apply_definitions(store: FeatureStore, features_dir: Path) -> list[str]:
    """Register every entity, view and service (what `feast apply` does), returning view names."""
    from feature_repo.definitions import ALL_OBJECTS, FEATURE_VIEWS

    session_log = features_dir / "session_log.parquet"
    if not session_log.exists():
        features_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([], schema=SESSION_LOG_SCHEMA), session_log)
    store.apply(ALL_OBJECTS)
    return [view.name for view in FEATURE_VIEWS]


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    return pa.Table.from_pylist([], schema=schema).to_pandas()

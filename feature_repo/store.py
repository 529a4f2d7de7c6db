"""Opening the feature store for a profile: the embedded one or any `feature_store.*.yaml`.

Profiles differ by configuration only (``RECO_FEAST_CONFIG``): ``feature_store.yaml`` keeps everything
in files under ``$RECO_HOME``; ``feature_store.prod.yaml`` uses Redis online and a PostgreSQL registry
(it needs ``RECO_REDIS_URL`` and ``RECO_REGISTRY_URL``; ``RECO_FEAST_PROJECT`` defaults to ``reco``).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from feast import FeatureStore, FeatureView, FileSource, PushSource
from feast.data_source import DataSource

from contracts.features import FEAST_PROJECT
from contracts.settings import PlatformSettings

PROFILE_ENV = "RECO_FEAST_CONFIG"
DEFAULT_CONFIG = "feature_store.yaml"
PROD_CONFIG = "feature_store.prod.yaml"
PROJECT_ENV = "RECO_FEAST_PROJECT"
# Variables a profile may reference that have a sensible default (os.path.expandvars has none).
PROFILE_DEFAULTS: dict[str, str] = {PROJECT_ENV: FEAST_PROJECT}
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")

SESSION_LOG_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("event_timestamp", pa.timestamp("us", tz="UTC")),
        ("session_item_ids", pa.list_(pa.string())),
        ("session_categories", pa.list_(pa.string())),
        ("session_last_category", pa.string()),
        ("session_clicks", pa.int64()),
        ("session_events", pa.int64()),
        ("session_log_offset", pa.int64()),
    ]
)


class ProfileConfigError(RuntimeError):
    """A profile references environment variables that are not set."""


def profile_path(settings: PlatformSettings) -> Path:
    """The YAML of the selected profile (``RECO_FEAST_CONFIG``, a name in the repo or a path)."""
    return Path(settings.feast_repo) / os.environ.get(PROFILE_ENV, DEFAULT_CONFIG)


def profile_env(config: Path) -> dict[str, str]:
    """Fill defaults for the profile's ``${VAR}``s in ``os.environ`` and return the values used.

    Feast leaves an unset variable as the literal ``${VAR}``, which surfaces later as a confusing
    connection error; this names the missing variables up front instead.
    """
    text = "\n".join(line.split("#", 1)[0] for line in Path(config).read_text().splitlines())
    names = {a or b for a, b in _VAR.findall(text)}
    for name in names & PROFILE_DEFAULTS.keys():
        os.environ.setdefault(name, PROFILE_DEFAULTS[name])
    missing = sorted(n for n in names if not os.environ.get(n))
    if missing:
        raise ProfileConfigError(f"feature store profile {Path(config).name} needs {', '.join(missing)} set")
    return {name: os.environ[name] for name in sorted(names)}


def open_store(settings: PlatformSettings) -> FeatureStore:
    """The store for ``settings``; the YAML profile comes from ``RECO_FEAST_CONFIG`` if set."""
    os.environ["RECO_HOME"] = str(settings.paths.home)  # feature_store.yaml expands ${RECO_HOME}
    settings.paths.feast.mkdir(parents=True, exist_ok=True)
    config = profile_path(settings)
    profile_env(config)
    return FeatureStore(repo_path=str(settings.feast_repo), fs_yaml_file=config)


def _rebased_source(source: DataSource, features_dir: Path) -> DataSource:
    """A copy of ``source`` whose Parquet file (or push source's batch file) lies in ``features_dir``."""
    if isinstance(source, PushSource):
        rebased = copy.copy(source)
        rebased.batch_source = _rebased_source(source.batch_source, features_dir)
        return rebased
    if isinstance(source, FileSource):
        rebased_file = FileSource.from_proto(source.to_proto())
        rebased_file.file_options.uri = str(features_dir / Path(source.path).name)
        return rebased_file
    return source


def _rebased_view(view: FeatureView, features_dir: Path) -> FeatureView:
    rebased = copy.copy(view)
    if view.stream_source is not None:
        rebased.stream_source = rebased.data_source = _rebased_source(view.stream_source, features_dir)
        rebased.batch_source = rebased.stream_source.batch_source
    elif view.batch_source is not None:
        rebased.batch_source = rebased.data_source = _rebased_source(view.batch_source, features_dir)
    return rebased


def rebased_objects(objects: Sequence[Any], features_dir: Path) -> list[Any]:
    """The definitions with their file sources in ``features_dir``.

    `feature_repo.data_sources` binds paths to ``$RECO_HOME`` when first imported; a platform (or a
    test, or a benchmark) whose features live elsewhere must register its own paths, or Feast would
    materialize another home's Parquet files.
    """
    out: list[Any] = []
    for obj in objects:
        if isinstance(obj, FeatureView):
            obj = _rebased_view(obj, features_dir)
        elif isinstance(obj, DataSource):
            obj = _rebased_source(obj, features_dir)
        out.append(obj)
    return out


def apply_definitions(store: FeatureStore, features_dir: Path) -> list[str]:
    """Register every entity, view and service (what `feast apply` does), returning view names."""
    from feature_repo.data_sources import FEATURES_DIR
    from feature_repo.definitions import ALL_OBJECTS, FEATURE_VIEWS

    features_dir = Path(features_dir).resolve()
    session_log = features_dir / "session_log.parquet"
    if not session_log.exists():
        features_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([], schema=SESSION_LOG_SCHEMA), session_log)
    same_dir = features_dir == FEATURES_DIR.resolve()
    store.apply(ALL_OBJECTS if same_dir else rebased_objects(ALL_OBJECTS, features_dir))
    # With the production profile's `cache_mode: thread` Feast skips the post-apply refresh, so this
    # process would not see its own views (materialize and push would fail) until the next tick.
    store.refresh_registry()
    return [view.name for view in FEATURE_VIEWS]

"""The scheduled full index rebuild (every few hours): today's catalogue, the served model, atomically.

Between daily retrains the catalogue API adds items to the running server's index one by one and
tombstones deleted ones. Every few hours this job re-embeds the whole current catalogue (the
warehouse items overlaid with the filter store's API writes, deleted and flagged items dropped)
with the item tower of the model being *served*, since an index is only usable with the user
tower it was trained with, and publishes a fresh item index plus content index under
``artifacts/live_index/<model_version>/``, switching ``CURRENT.json`` atomically.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from bento.catalogue.filter_store import read_catalogue_changes
from contracts.settings import PlatformPaths
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.ingestion.assets import overlay_catalogue
from training.candidates.content import ContentIndex
from training.config import IndexConfig
from training.export import MANIFEST_FILE, read_manifest
from training.index.publish import publish
from training.index.rebuild import rebuild_item_index
from training.retrieval import RetrievalArtifacts

REBUILD_CRON = "20 */4 * * *"  # design: "ANN index rebuilt every few hours"; off the hourly :05 archive
UNVERSIONED = "staging"  # before any bundle exists, the staging model has no version yet


def live_index_root(paths: PlatformPaths) -> Path:
    return paths.live_index


@dataclass(frozen=True)
class ServedModel:
    version: str
    retrieval: Path  # directory of the saved RetrievalArtifacts


def served_model(paths: PlatformPaths) -> ServedModel:
    """The retrieval model the server runs: the promoted bundle's, else (no bundle yet) staging's."""
    area = staging(paths)
    staged = read_manifest(area.ranker)["model_version"] if (area.ranker / MANIFEST_FILE).exists() else None
    current_file = paths.artifacts / "current.json"
    if not current_file.exists():
        return ServedModel(staged or UNVERSIONED, area.retrieval)
    current = json.loads(current_file.read_text())
    if current["model_version"] == staged:
        return ServedModel(staged, area.retrieval)
    import bentoml  # staging holds a newer, unpromoted model: read the served one from the store

    return ServedModel(
        current["model_version"], Path(bentoml.models.get(current["model"]).path) / "retrieval"
    )


def current_catalogue(paths: PlatformPaths) -> tuple[pd.DataFrame, set[str]]:
    """Warehouse items overlaid with the catalogue API's writes since (as the daily rebuild does)."""
    live, removed = read_catalogue_changes(paths.filter_store)
    return overlay_catalogue(read_table(paths, "items"), live, removed), set(live["item_id"])


def rebuild_live_indices(paths: PlatformPaths, config: IndexConfig | None = None) -> dict[str, Any]:
    """Re-embed, rebuild and publish; returns what was published (for run metadata)."""
    model = served_model(paths)
    artifacts = RetrievalArtifacts.load(model.retrieval)
    catalogue, api_written = current_catalogue(paths)
    unseen = sorted(set(catalogue["item_id"].astype(str)) - set(artifacts.item_ids))

    def write(directory: Path) -> dict[str, Any]:
        index = rebuild_item_index(artifacts, catalogue, config)
        index.save(directory / "items")
        content = ContentIndex.build(catalogue)
        content.save(directory / "content")
        return {"items": index.size, "kind": index.kind, "content_items": content.size}

    published = publish(live_index_root(paths), model.version, write)
    pointer = json.loads((published.parent / "CURRENT.json").read_text())
    return {
        **pointer,
        "directory": str(published),
        "embedded_from_side_features": len(unseen),
        "api_written_items": len(api_written),
    }


@dg.op(description="Re-embed the current catalogue with the served model; publish the indices atomically.")
def rebuild_indices(
    context: dg.OpExecutionContext, platform: PlatformResource, artifacts: ArtifactStoreResource
) -> dg.Output[None]:
    result = rebuild_live_indices(platform.settings.paths)
    context.log.info(f"published {result['kind']} index of {result['items']} items at {result['directory']}")
    if artifacts.enabled:  # production: the same directory on the artifact store, pointer last
        published = Path(result["directory"])
        result["files_uploaded"] = artifacts.put_tree(published, f"indices/live/{published.name}")
        artifacts.put_file(published.parent / "CURRENT.json", "indices/live/CURRENT.json")
        result["uploaded_to"] = artifacts.url(f"indices/live/{published.name}")
    return dg.Output(None, metadata={k: v for k, v in result.items() if isinstance(v, str | int | float)})


@dg.job(description="Full FAISS index rebuild between daily retrains (new items, tombstones reclaimed).")
def index_rebuild() -> None:
    rebuild_indices()


index_rebuild_schedule = dg.ScheduleDefinition(
    job=index_rebuild, cron_schedule=REBUILD_CRON, execution_timezone="UTC"
)

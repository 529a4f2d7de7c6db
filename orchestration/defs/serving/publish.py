"""The promoted version on the artifact store, and back onto a serving node that has none of it.

Layout under ``s3://<bucket>/<prefix>/``::

    bundles/<version>.bentomodel     the registered BentoML model (every file the service serves)
    bundles/<version>.json           its registry record (lineage, metrics, feature manifest)
    indices/<version>/items/         the FAISS item index of that version
    indices/<version>/content/       the FAISS content index
    features/<table>.parquet         the batch feature tables the online store was materialized from
    registry/production.json         the production pointer: written last, so it never names a
                                     bundle that is not there yet

``pull`` is what a serving node (or a container build) runs before ``bentoml serve``: it imports the
bundle into the local BentoML store and writes the local production pointer.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import bentoml
from bentoml.exceptions import NotFound

from contracts.registry import POINTER_FILE, ProductionPointer, read_production, write_production
from contracts.settings import PlatformPaths
from orchestration.defs.common.artifact_store import ArtifactStoreResource

if TYPE_CHECKING:  # pull runs on serving nodes: no training stack imported there
    from orchestration.defs.serving.registry import ModelRegistry

POINTER_KEY = f"registry/{POINTER_FILE}"
INDEX_DIRS = {"items": "index", "content": "candidates/content"}  # name in the store -> bundle dir


def bundle_key(version: str) -> str:
    return f"bundles/{version}.bentomodel"


def publish_production(
    store: ArtifactStoreResource, registry: ModelRegistry, paths: PlatformPaths
) -> dict[str, object]:
    """Upload the production version, its indices and the feature tables; then the pointer."""
    pointer = registry.production()
    if pointer is None:
        raise RuntimeError("nothing is in production: there is nothing to publish")
    version = pointer.current.version
    record = registry.get(version)
    with tempfile.TemporaryDirectory() as scratch:
        exported = bentoml.models.export_model(record.model_tag, str(Path(scratch) / f"{version}.bentomodel"))
        store.put_file(Path(exported), bundle_key(version))
    store.put_text(record.model_dump_json(indent=2), f"bundles/{version}.json")
    root = registry.path(version)
    indices = {
        name: store.put_tree(root / local, f"indices/{version}/{name}")
        for name, local in INDEX_DIRS.items()
        if (root / local).is_dir()
    }
    tables = sorted(paths.features.glob("*.parquet"))
    for table in tables:
        store.put_file(table, f"features/{table.name}")
    store.put_text(pointer.model_dump_json(indent=2), POINTER_KEY)
    return {
        "version": version,
        "bundle": store.url(bundle_key(version)),
        "index_files": indices,
        "feature_tables": [t.name for t in tables],
        "pointer": store.url(POINTER_KEY),
    }


def pull_production(store: ArtifactStoreResource, home: Path, version: str | None = None) -> str:
    """Import the published production version (or ``version``) and point this home at it."""
    text = store.get_text(POINTER_KEY)
    if text is None:
        raise RuntimeError(f"{store.url(POINTER_KEY)} does not exist: nothing was published")
    published = ProductionPointer.model_validate_json(text)
    wanted = version or published.current.version
    deployments = [published.current, *published.history]
    deployment = next((d for d in deployments if d.version == wanted), None)
    if deployment is None:
        raise RuntimeError(f"version {wanted} was never in production at {store.url(POINTER_KEY)}")
    try:
        bentoml.models.get(deployment.model_tag)
    except NotFound:
        with tempfile.TemporaryDirectory() as scratch:
            local = store.get_file(bundle_key(wanted), Path(scratch) / f"{wanted}.bentomodel")
            bentoml.models.import_model(str(local))
    local_pointer = read_production(home)
    if local_pointer is None or local_pointer.current.version != wanted:
        moved = (
            ProductionPointer(current=deployment, history=published.history)
            if local_pointer is None
            else local_pointer.moved_to(deployment)
        )
        write_production(home, moved)
    return deployment.model_tag

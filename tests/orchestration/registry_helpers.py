"""Tiny real registry versions for tests: an exported ranker in BentoML's store, in a temp home."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import torch

from contracts.features import RANKER_INPUTS, RANKING_SERVICE
from contracts.schemas import SURFACES
from orchestration.defs.serving.registry import Lineage, ModelRegistry, VersionRecord
from training.export import MANIFEST_FILE, export_ranker, read_manifest
from training.models.ranking.ranker import RankerModel


@contextmanager
def temporary_bentoml_home(root: Path) -> Iterator[Path]:
    """Point BentoML's model and bento stores at ``root`` (what BENTOML_HOME=root gives a process)."""
    from bentoml._internal.bento import BentoStore
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml._internal.models import ModelStore

    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "bentos").mkdir(parents=True, exist_ok=True)
    with (
        BentoMLContainer.model_store.patch(ModelStore(root / "models")),
        BentoMLContainer.bento_store.patch(BentoStore(root / "bentos")),
    ):
        yield root


def exported_ranker(directory: Path, version: str = "v0") -> Path:
    torch.manual_seed(0)
    model = RankerModel(hidden_dims=(8,), head_dim=4)
    model.net.set_standardization(torch.zeros(len(RANKER_INPUTS)), torch.ones(len(RANKER_INPUTS)))
    return export_ranker(model.eval(), directory / "ranker", version)


def bundle_files(template: Path, root: Path, version: str) -> Path:
    """A bundle directory holding the template ranker, its manifest stamped with ``version``."""
    files = root / f"files-{version}"
    shutil.copytree(template, files / "ranker")
    manifest = read_manifest(files / "ranker") | {"model_version": version}
    (files / "ranker" / MANIFEST_FILE).write_text(json.dumps(manifest))
    return files


def record(
    registry: ModelRegistry, version: str, ndcg: float = 0.2, **manifest_changes: object
) -> VersionRecord:
    manifest = {
        "model_version": version,
        "inputs": list(RANKER_INPUTS),
        "feature_service": RANKING_SERVICE,
        **manifest_changes,
    }
    manifest.setdefault("surfaces", list(SURFACES))
    return VersionRecord(
        version=version,
        model_tag=registry.tag(version),
        index={"kind": "flat", "size": 10},
        manifest=manifest,
        metrics={"ndcg@10": ndcg, "recall@10": 0.3},
        lineage=Lineage(
            source="demo",
            time_split={"start": "2026-01-01", "cut": "2026-01-20", "end": "2026-01-22"},
            feature_service=RANKING_SERVICE,
            code_version="test",
            created_at=datetime.now(UTC),
        ),
    )


def register(
    registry: ModelRegistry, template: Path, root: Path, version: str, **kwargs: object
) -> VersionRecord:
    return registry.register(record(registry, version, **kwargs), bundle_files(template, root, version))

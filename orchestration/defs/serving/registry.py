"""Model registry on BentoML's model store: a typed record per version, the last N kept, older archived.

BentoML already versions ``reco_bundle:<version>``; the registry adds what a rollback needs to be
safe: each version's lineage, metrics and feature manifest next to its files, a durable
production pointer (``contracts.registry``), and an archive so pruning never loses a version.
Serving never imports this module: it reads only the pointer.
"""

import contextlib
import json
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import bentoml
from bentoml.exceptions import NotFound
from pydantic import BaseModel

from contracts.registry import (
    BUNDLE_MODEL,
    Deployment,
    ProductionPointer,
    pointer_lock,
    read_production,
    registry_dir,
    write_atomic,
    write_production,
)
from contracts.settings import REPO_ROOT, PlatformSettings
from training.export import check_manifest, read_manifest
from training.index.faiss_index import META_FILE as INDEX_META_FILE

ARCHIVE_SUFFIX = ".bentomodel"
PACKAGE = "reco-platform"
CURRENT_FILE = "current.json"


class UnknownVersionError(LookupError):
    """Neither the model store nor the archive holds this version."""


class Lineage(BaseModel):
    """Where a version came from: enough to reproduce it or explain a regression."""

    source: str  # demo / movielens / interactions
    time_split: dict[str, str]  # start, cut (labels after it), end of the data it learned from
    feature_service: str
    code_version: str  # git commit, or the package version outside a checkout
    created_at: datetime


class VersionRecord(BaseModel):
    version: str
    model_tag: str
    bento_tag: str | None = None
    index: dict[str, Any]  # FAISS index kind, size and build config
    manifest: dict[str, Any]  # the ranker's input contract (training.export)
    metrics: dict[str, float]  # offline evaluation of the full funnel
    lineage: Lineage


def code_version(repo: Path = REPO_ROOT) -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        if commit:
            return commit
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return f"{PACKAGE}=={package_metadata.version(PACKAGE)}"
    except package_metadata.PackageNotFoundError:
        return "unknown"


def source_fingerprint(settings: PlatformSettings) -> str:
    """The data source a bundle was built from (``make run`` reuses a bundle only for the same one)."""
    return settings.source.model_dump_json()


def publish_served(artifacts: Path, record: VersionRecord, source: str) -> Path:
    """``artifacts/current.json``: the served bundle, for readers older than the production pointer
    (``make run``'s freshness test, the index rebuild). The pointer stays the source of truth."""
    current = {
        "bento": record.bento_tag,
        "model": record.model_tag,
        "model_version": record.version,
        "source": source,
        "built_at": record.lineage.created_at.isoformat(),
    }
    path = artifacts / CURRENT_FILE
    write_atomic(path, json.dumps(current, indent=2))
    return path


class ModelRegistry:
    """Versions in BentoML's model store, the production pointer and the archive under ``home``."""

    def __init__(self, home: Path, keep: int = 10, model_name: str = BUNDLE_MODEL) -> None:
        if keep < 1:
            raise ValueError("the registry must keep at least one version")
        self.home = home
        self.keep = keep
        self.model_name = model_name

    @property
    def archive_dir(self) -> Path:
        return registry_dir(self.home) / "archive"

    def tag(self, version: str) -> str:
        return f"{self.model_name}:{version}"

    def gate_file(self, version: str) -> Path:
        """The promotion gate's report on ``version`` (written by the Dagster check)."""
        return registry_dir(self.home) / "gates" / f"{version}.json"

    def gate_report(self, version: str) -> dict[str, Any] | None:
        path = self.gate_file(version)
        return json.loads(path.read_text()) if path.exists() else None

    # ---- versions ------------------------------------------------------------------------------

    def register(self, record: VersionRecord, files: Path) -> VersionRecord:
        """Store ``files`` as one model version with its record; a known version is a no-op."""
        if record.model_tag != self.tag(record.version):
            raise ValueError(f"record tag {record.model_tag!r} != {self.tag(record.version)!r}")
        try:
            return self.get(record.version)
        except UnknownVersionError:
            pass
        with bentoml.models.create(
            record.model_tag,
            labels={"model_version": record.version},
            metadata={"record": record.model_dump_json()},  # one string: BentoML refuses None values
        ) as model:
            for entry in files.iterdir():
                target = Path(model.path) / entry.name
                if entry.is_dir():
                    shutil.copytree(entry, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(entry, target)
        return record

    def _models(self) -> list[Any]:
        try:
            models = bentoml.models.list(self.model_name)
        except NotFound:  # BentoML raises rather than list nothing
            return []
        return sorted(models, key=lambda m: m.info.creation_time)

    def records(self) -> list[VersionRecord]:
        """Kept versions, oldest first."""
        return [self._record(model) for model in self._models()]

    @staticmethod
    def _record(model: Any) -> VersionRecord:
        metadata = model.info.metadata
        if "record" in metadata:
            return VersionRecord.model_validate_json(metadata["record"])
        # A bundle saved before the registry existed: rebuild its record from its own files.
        root = Path(model.path)
        index = json.loads((root / "index" / INDEX_META_FILE).read_text())
        return VersionRecord(
            version=str(model.tag.version),
            model_tag=str(model.tag),
            index={"kind": index["kind"], "size": len(index["ids"]) - len(index.get("removed", []))},
            manifest=read_manifest(root / "ranker"),
            metrics={k: float(v) for k, v in metadata.get("evaluation", {}).items()},
            lineage=Lineage(
                source=str(metadata.get("source", "unknown")),
                time_split=dict(metadata.get("time_split", {})),
                feature_service=str(metadata.get("feature_service", "unknown")),
                code_version="unknown",
                created_at=model.info.creation_time,
            ),
        )

    def get(self, version: str) -> VersionRecord:
        try:
            return self._record(bentoml.models.get(self.tag(version)))
        except NotFound:
            raise UnknownVersionError(f"{self.tag(version)} is not in the model store") from None

    def path(self, version: str) -> Path:
        """The version's files (bundle layout: ranker/, index/, retrieval/, ...)."""
        try:
            return Path(bentoml.models.get(self.tag(version)).path)
        except NotFound:
            raise UnknownVersionError(f"{self.tag(version)} is not in the model store") from None

    # ---- production pointer --------------------------------------------------------------------

    def production(self) -> ProductionPointer | None:
        return read_production(self.home)

    def promote(self, version: str, reason: str) -> Deployment:
        """Point production at ``version`` (restored from the archive if need be); idempotent.

        Refuses a version whose feature manifest no longer matches this code's contract: serving
        would refuse it at start-up, so promoting it would only turn a restart into an outage.
        """
        if version in self.archived() and version not in {r.version for r in self.records()}:
            self.restore(version)
        record = self.get(version)
        check_manifest(record.manifest)
        with pointer_lock(self.home):
            pointer = read_production(self.home)
            if pointer is not None and pointer.current.version == version:
                return pointer.current
            deployment = Deployment(
                version=version,
                model_tag=record.model_tag,
                bento_tag=record.bento_tag,
                metrics=record.metrics,
                promoted_at=datetime.now(UTC),
                reason=reason,
            )
            moved = ProductionPointer(current=deployment) if pointer is None else pointer.moved_to(deployment)
            write_production(self.home, moved)
        return deployment

    def rollback(self, version: str | None = None) -> Deployment:
        """Back to ``version``, or to the most recent earlier production version still available."""
        if version is None:
            pointer = self.production()
            if pointer is None:
                raise UnknownVersionError("nothing is in production yet: there is nothing to roll back")
            available = {r.version for r in self.records()} | set(self.archived())
            earlier = [d.version for d in pointer.history if d.version != pointer.current.version]
            candidates = [v for v in earlier if v in available]
            if not candidates:
                raise UnknownVersionError("no earlier production version is kept or archived")
            version = candidates[0]
        return self.promote(version, reason="rollback")

    # ---- retention -----------------------------------------------------------------------------

    def archived(self) -> list[str]:
        if not self.archive_dir.exists():
            return []
        return sorted(
            p.name.removesuffix(ARCHIVE_SUFFIX) for p in self.archive_dir.glob(f"*{ARCHIVE_SUFFIX}")
        )

    def archive_file(self, version: str) -> Path:
        return self.archive_dir / f"{version}{ARCHIVE_SUFFIX}"

    def prune(self) -> list[str]:
        """Archive every version beyond the newest ``keep``; production is never archived."""
        pointer = self.production()
        protected = {pointer.current.version} if pointer is not None else set()
        models = self._models()
        overflow = models[: max(0, len(models) - self.keep)]
        archived = []
        for model in overflow:
            record = self._record(model)
            if record.version in protected:
                continue
            self._archive(record)
            archived.append(record.version)
        return archived

    def _archive(self, record: VersionRecord) -> None:
        """Export to ``<version>.bentomodel`` (record beside it) first, delete from the store after."""
        target = self.archive_file(record.version)
        incoming = self.archive_dir / ".incoming"  # a crash mid-export leaves no half file in the archive
        incoming.mkdir(parents=True, exist_ok=True)
        written = Path(bentoml.models.export_model(record.model_tag, str(incoming / target.name)))
        if not written.exists() or written.stat().st_size == 0:
            raise OSError(f"archiving {record.model_tag} produced no file at {written}")
        written.replace(target)
        write_atomic(target.with_suffix(".json"), record.model_dump_json(indent=2))
        if record.bento_tag:
            with contextlib.suppress(NotFound):  # the bento needs the model: without it, it cannot serve
                bentoml.bentos.delete(record.bento_tag)
        bentoml.models.delete(record.model_tag)

    def restore(self, version: str) -> VersionRecord:
        """Import an archived version back into the model store (its bento is not rebuilt)."""
        source = self.archive_file(version)
        if not source.exists():
            raise UnknownVersionError(f"{self.tag(version)} is neither in the model store nor archived")
        bentoml.models.import_model(str(source))
        return self.get(version)

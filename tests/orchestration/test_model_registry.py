"""Registry on a real (temporary) BentoML store: retention with archive, pointer, rollback, CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import bentoml
import pytest
from registry_helpers import exported_ranker, register, temporary_bentoml_home

from contracts.registry import POINTER_FILE, read_production, registry_dir
from orchestration import registry as cli
from orchestration.defs.serving.registry import ModelRegistry, UnknownVersionError
from training.export import ManifestMismatchError


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    with temporary_bentoml_home(tmp_path / "bentoml"):
        yield tmp_path / "reco"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exported_ranker(tmp_path_factory.mktemp("ranker"))


def versions(n: int) -> list[str]:
    return [f"v{i:02d}" for i in range(n)]


def test_keeps_the_newest_ten_and_archives_the_eleventh(home: Path, template: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(home, keep=10)
    for version in versions(11):
        register(registry, template, tmp_path, version)
    assert registry.prune() == ["v00"]
    assert [r.version for r in registry.records()] == versions(11)[1:]
    with pytest.raises(UnknownVersionError):
        registry.get("v00")
    archive = registry.archive_file("v00")
    assert archive.stat().st_size > 0 and registry.archived() == ["v00"]
    assert json.loads(archive.with_suffix(".json").read_text())["version"] == "v00"
    assert not list((registry.archive_dir / ".incoming").iterdir()), "no half-written archive left"
    assert registry.prune() == [], "pruning again archives nothing"

    # Archived, not lost: promoting it brings it back from the archive with its record.
    registry.promote("v00", reason="manual promote")
    restored = registry.get("v00")
    assert restored.metrics["ndcg@10"] == pytest.approx(0.2)
    assert (registry.path("v00") / "ranker" / "ranker.pt").exists()
    assert read_production(home).current.version == "v00"


def test_production_is_never_archived(home: Path, template: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(home, keep=3)
    register(registry, template, tmp_path, "v00")
    registry.promote("v00", reason="promotion gate passed")
    for version in versions(5)[1:]:
        register(registry, template, tmp_path, version)
    assert registry.prune() == ["v01"]  # v00 is older but serving
    assert [r.version for r in registry.records()] == ["v00", "v02", "v03", "v04"]


def test_register_is_idempotent_per_version(home: Path, template: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(home)
    first = register(registry, template, tmp_path, "v07", ndcg=0.2)
    again = register(registry, template, tmp_path / "again", "v07", ndcg=0.9)
    assert again.metrics == first.metrics and len(bentoml.models.list("reco_bundle")) == 1


def test_rollback_to_previous_and_to_a_named_version(home: Path, template: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(home)
    with pytest.raises(UnknownVersionError, match="nothing is in production"):
        registry.rollback()
    for version in ("va", "vb", "vc"):
        register(registry, template, tmp_path, version)
        registry.promote(version, reason="promotion gate passed")
    assert registry.promote("vc", reason="again").reason == "promotion gate passed", "same version: no-op"

    assert registry.rollback().version == "vb"
    pointer = read_production(home)
    assert pointer.current.reason == "rollback"
    assert [d.version for d in pointer.history] == ["vc", "vb", "va"]
    assert registry.rollback("va").version == "va"
    with pytest.raises(UnknownVersionError):
        registry.rollback("vz")
    assert read_production(home).current.version == "va", "a failed rollback leaves production alone"


def test_promote_refuses_a_manifest_that_does_not_match(home: Path, template: Path, tmp_path: Path) -> None:
    registry = ModelRegistry(home)
    register(registry, template, tmp_path, "vgood")
    registry.promote("vgood", reason="promotion gate passed")
    register(registry, template, tmp_path, "vold", feature_service="ranking_v0")
    with pytest.raises(ManifestMismatchError):
        registry.promote("vold", reason="manual promote")
    assert read_production(home).current.version == "vgood"


def test_pointer_write_is_atomic(
    home: Path, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = ModelRegistry(home)
    for version in ("va", "vb"):
        register(registry, template, tmp_path, version)
    registry.promote("va", reason="promotion gate passed")
    before = (registry_dir(home) / POINTER_FILE).read_bytes()

    def crash(*_: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)  # the process dies between writing and renaming
    with pytest.raises(OSError, match="disk gone"):
        registry.promote("vb", reason="promotion gate passed")
    monkeypatch.undo()
    assert (registry_dir(home) / POINTER_FILE).read_bytes() == before
    assert read_production(home).current.version == "va"
    assert [p.name for p in registry_dir(home).iterdir() if p.name.endswith(".tmp")] == []


def test_cli_lists_promotes_and_rolls_back(
    home: Path, template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("RECO_HOME", str(home))
    registry = ModelRegistry(home.resolve())
    for version in ("va", "vb"):
        register(registry, template, tmp_path, version)
    assert cli.main(["promote", "va"]) == 0
    assert cli.main(["promote", "vb"]) == 0
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "production: vb" in listing and "* vb" in listing and "  va" in listing

    assert cli.main(["rollback"]) == 0
    assert read_production(home.resolve()).current.version == "va"
    served = json.loads((home / "artifacts" / "current.json").read_text())
    assert served["model_version"] == "va" and served["model"] == "reco_bundle:va"
    assert cli.main(["promote", "nope"]) == 1
    assert "not in the model store" in capsys.readouterr().err

"""The supervisor of `make run`: a child that dies is reported by name and the others are stopped."""

from __future__ import annotations

import os
import sys

import pytest

from orchestration.platform import Child, supervise

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def test_a_dead_child_is_reported_and_the_others_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    group = [
        Child("sleeper one", SLEEP),
        Child("crasher", [sys.executable, "-c", "import time, sys; time.sleep(1); sys.exit(3)"]),
        Child("sleeper two", SLEEP),
    ]
    up: list[bool] = []
    assert supervise(group, dict(os.environ), None, lambda: up.append(True)) == 1
    assert up == [True]
    assert "crasher exited with code 3" in capsys.readouterr().err
    assert group[0].exited() is not None and group[2].exited() is not None


def test_external_consumers_are_supervised_children_only_when_configured() -> None:
    from bento.ingestion.settings import IngestionConfig
    from orchestration.platform import children

    embedded = children(3000, 3070, IngestionConfig())
    assert [c.name for c in embedded] == ["dagster daemon", "dagster ui", "service"]
    production = IngestionConfig.model_validate(
        {"session_updater": {"mode": "external"}, "archiver": {"mode": "external"}}
    )
    group = {c.name: c.command for c in children(3000, 3070, production)}
    assert group["session updater"][1:] == ["-m", "bento.ingestion.session_updater"]
    assert group["archiver"][1:] == ["-m", "orchestration.archiver"]
    assert len(group) == 5


def test_the_service_serves_the_production_versions_built_bento(tiny_platform, tmp_path) -> None:
    from datetime import UTC, datetime

    from contracts.registry import POINTER_FILE, Deployment, ProductionPointer, read_production, registry_dir
    from orchestration.platform import WORKING_TREE_SERVICE, service_target

    platform, _ = tiny_platform
    production = read_production(platform.settings.paths.home)
    assert production is not None and production.current.bento_tag
    assert service_target(platform.settings.paths.home) == production.current.bento_tag
    assert service_target(tmp_path) == WORKING_TREE_SERVICE, "before a first promotion"
    import bentoml

    docker = bentoml.bentos.get(production.current.bento_tag).info.docker
    assert (docker.cuda_version, docker.python_version) == ("12.8.1", "3.11"), "containerizes for a GPU"
    gone = Deployment(
        version="v1",
        model_tag="reco_bundle:v1",
        bento_tag="reco:v1",
        promoted_at=datetime.now(UTC),
        reason="manual promote",
    )
    (registry_dir(tmp_path) / POINTER_FILE).parent.mkdir(parents=True)
    (registry_dir(tmp_path) / POINTER_FILE).write_text(ProductionPointer(current=gone).model_dump_json())
    assert service_target(tmp_path) == WORKING_TREE_SERVICE, "a bento missing from the store"

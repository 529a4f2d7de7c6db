"""materialize_source: each source kind becomes a world, and a failure never leaves half a world."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from contracts.datasets import DatasetError
from contracts.settings import SourceConfig
from contracts.sources import main, materialize_source
from contracts.world.io import read_summary


def _files(world: Path) -> dict[str, str]:
    return {
        str(p.relative_to(world)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in world.rglob("*")
        if p.is_file()
    }


def test_demo_source_is_the_generated_world(tmp_path: Path, tiny_world: Path, world_end, world_seed) -> None:
    out = tmp_path / "world"
    summary = materialize_source(
        SourceConfig(kind="demo", size="tiny", seed=world_seed), out, False, end_time=world_end
    )
    assert summary == read_summary(tiny_world)
    assert _files(out) == _files(tiny_world)
    assert [p.name for p in tmp_path.iterdir()] == ["world"]  # no staging left behind


def test_a_new_source_replaces_the_old_world(tmp_path: Path, ml_100k: Path, world_end) -> None:
    out = tmp_path / "world"
    materialize_source(SourceConfig(kind="demo", size="tiny"), out, False, end_time=world_end)
    summary = materialize_source(SourceConfig(kind="movielens", path=ml_100k), out, False)
    assert (summary.kind, summary.n_events, summary.source_path) == ("movielens", 100_000, str(ml_100k))
    assert read_summary(out) == summary
    assert len(list((out / "events").iterdir())) == 1  # the demo world's part files are gone
    assert [p.name for p in tmp_path.iterdir()] == ["world"]


def test_a_failure_keeps_the_previous_world(tmp_path: Path, world_end) -> None:
    out = tmp_path / "world"
    materialize_source(SourceConfig(kind="demo", size="tiny"), out, False, end_time=world_end)
    before = _files(out)
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,event_type\nu1,i1,like\n")
    with pytest.raises(DatasetError, match=r"bad\.csv line 2"):
        materialize_source(SourceConfig(kind="interactions", path=bad), out, False)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "world"]


def test_interactions_source_and_missing_path(tmp_path: Path, world_end) -> None:
    log = tmp_path / "log.csv"
    log.write_text("uid;iid\na;x\nb;y\n")
    source = SourceConfig(kind="interactions", path=log, columns="user=uid,item=iid", separator=";")
    summary = materialize_source(source, tmp_path / "world", False, end_time=world_end)
    assert (summary.n_users, summary.n_items, summary.n_events) == (2, 2, 2)
    assert summary.end_time < world_end
    with pytest.raises(ValueError, match="needs a path"):
        materialize_source(SourceConfig(kind="movielens"), tmp_path / "other", False)
    assert not (tmp_path / "other").exists()


def test_cli(tmp_path: Path, ml_100k: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--kind", "movielens", "--path", str(ml_100k), "--out", str(tmp_path / "world")])
    assert json.loads(capsys.readouterr().out)["n_users"] == 943

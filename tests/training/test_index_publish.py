"""Atomic publishing of rebuilt indices: pointer switch, per-version layout, pruning, crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.index.publish import POINTER, current, publish


def _writer(label: str):
    def write(directory: Path) -> dict[str, str]:
        directory.mkdir(parents=True)
        (directory / "payload.txt").write_text(label)
        return {"label": label}

    return write


def test_pointer_moves_to_each_complete_build_and_old_ones_are_pruned(tmp_path: Path) -> None:
    assert current(tmp_path, "v1") is None
    builds = [publish(tmp_path, "v1", _writer(f"build{n}"), keep=2) for n in range(4)]
    path, meta = current(tmp_path, "v1")  # type: ignore[misc]
    assert path == builds[-1] and (path / "payload.txt").read_text() == "build3"
    assert meta["label"] == "build3" and meta["model_version"] == "v1"
    kept = sorted(p.name for p in (tmp_path / "v1").iterdir() if p.is_dir())
    assert kept == sorted(b.name for b in builds[-2:])
    assert current(tmp_path, "v2") is None, "versions are separate"


def test_a_crashed_build_never_becomes_current(tmp_path: Path) -> None:
    good = publish(tmp_path, "v1", _writer("good"))

    def crash(directory: Path) -> dict[str, str]:
        directory.mkdir(parents=True)
        (directory / "payload.txt").write_text("half")
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        publish(tmp_path, "v1", crash)
    path, _ = current(tmp_path, "v1")  # type: ignore[misc]
    assert path == good and (path / "payload.txt").read_text() == "good"
    assert list((tmp_path / "v1").glob(".*.partial")), "the crashed build is left aside"
    publish(tmp_path, "v1", _writer("next"))
    assert not list((tmp_path / "v1").glob(".*.partial")), "and cleaned up by the next build"
    assert json.loads((tmp_path / "v1" / POINTER).read_text())["label"] == "next"

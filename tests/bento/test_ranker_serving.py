"""The Ranker service: loads the production version (rollback included), warms up, survives GPU OOM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bento.service import bundle_tag
from contracts.features import RANKER_INPUTS
from contracts.registry import read_production
from orchestration.defs.serving.registry import ModelRegistry
from training.export import load_ranker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "orchestration"))
from registry_helpers import exported_ranker, register, temporary_bentoml_home

# Run in a fresh process, as `bentoml serve` would: the bundle tag is resolved at import.
SERVE_SCRIPT = """
import json, numpy as np, torch
import bento.service as service
from contracts.features import RANKER_INPUTS
from bentoml._internal.configuration.containers import BentoMLContainer

class OutOfMemory(torch.nn.Module):  # the GPU running out of memory mid-request
    def forward(self, x, surface):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")

ranker = service.Ranker()
rows = np.random.default_rng(0).normal(size=(32, len(RANKER_INPUTS)))
before = ranker.score(features=rows.astype(np.float32), surface="home_feed")
ranker.model.module = OutOfMemory()
after = [ranker.score(features=rows.astype(np.float32), surface="home_feed") for _ in range(2)]
metrics = BentoMLContainer.metrics_client.get().generate_latest().decode().splitlines()
print("RESULT " + json.dumps({
    "tag": service.BUNDLE_TAG,
    "version": ranker.model.model_version,
    "same_scores": bool(all(np.allclose(before, a, atol=1e-6) for a in after)),
    "fallbacks": [line for line in metrics if line.startswith("reco_ranker_cpu_fallbacks_total")],
}))
"""


class OutOfMemory(torch.nn.Module):
    def forward(self, x: torch.Tensor, surface: torch.Tensor) -> torch.Tensor:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")


def test_bundle_tag_prefers_override_then_pointer_then_newest(tmp_path: Path) -> None:
    home = tmp_path / "reco"
    assert bundle_tag({"RECO_HOME": str(home)}) == "reco_bundle:latest"
    with temporary_bentoml_home(tmp_path / "bentoml"):
        registry = ModelRegistry(home)
        register(registry, exported_ranker(tmp_path), tmp_path, "va")
        registry.promote("va", reason="promotion gate passed")
    assert bundle_tag({"RECO_HOME": str(home)}) == "reco_bundle:va"
    assert bundle_tag({"RECO_HOME": str(home), "RECO_BUNDLE_TAG": "reco_bundle:vx"}) == "reco_bundle:vx"


def test_out_of_memory_batch_is_rescored_on_cpu_and_serving_goes_on(tmp_path: Path) -> None:
    fallbacks: list[int] = []
    ranker = load_ranker(exported_ranker(tmp_path), device="cpu", on_cpu_fallback=fallbacks.append)
    rows = np.random.default_rng(1).normal(size=(1000, len(RANKER_INPUTS))).astype(np.float32)
    expected = ranker.score(rows, "notifications")
    ranker.module = OutOfMemory()  # the device module now fails every batch
    np.testing.assert_allclose(ranker.score(rows, "notifications"), expected, atol=1e-6)
    np.testing.assert_allclose(ranker.score(rows[:10], "home_feed"), ranker.score(rows[:10], "home_feed"))
    assert fallbacks == [1000, 10, 10], "each failed batch is counted with its size"


def test_warm_up_refuses_a_model_that_scores_nan(tmp_path: Path) -> None:
    from training.export import export_ranker
    from training.models.ranking.ranker import RankerModel

    model = RankerModel(hidden_dims=(8,), head_dim=4)
    with torch.no_grad():
        next(model.net.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="warm-up"):
        load_ranker(export_ranker(model.eval(), tmp_path / "ranker", "vnan"), device="cpu")


def test_service_serves_the_rolled_back_version_and_survives_oom(tmp_path: Path) -> None:
    home, bentoml_home = tmp_path / "reco", tmp_path / "bentoml"
    template = exported_ranker(tmp_path)
    with temporary_bentoml_home(bentoml_home):
        registry = ModelRegistry(home)
        for version in ("va", "vb"):
            register(registry, template, tmp_path, version)
            registry.promote(version, reason="promotion gate passed")
        registry.rollback()
    assert read_production(home).current.version == "va"

    (tmp_path / "prometheus").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k != "RECO_BUNDLE_TAG"},
        "RECO_HOME": str(home),
        "BENTOML_HOME": str(bentoml_home),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    result = json.loads(lines[0].removeprefix("RESULT "))
    assert result["tag"] == "reco_bundle:va" and result["version"] == "va"
    assert result["same_scores"], "the OOM batches were rescored on the CPU with the same model"
    assert result["fallbacks"] == ["reco_ranker_cpu_fallbacks_total 2.0"]

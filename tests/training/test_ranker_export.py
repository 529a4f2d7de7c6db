"""TorchScript export: same scores as eager, manifest enforcement, input validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from contracts.features import RANKER_INPUTS, RANKING_SERVICE, ranker_inputs
from contracts.schemas import SURFACES
from training.export import MANIFEST_FILE, ManifestMismatchError, export_ranker, load_ranker
from training.models.ranking.ranker import RankerModel


@pytest.fixture(scope="module")
def model() -> RankerModel:
    torch.manual_seed(0)
    model = RankerModel(hidden_dims=(16, 8), head_dim=4)
    model.net.set_standardization(torch.rand(len(RANKER_INPUTS)), torch.rand(len(RANKER_INPUTS)) + 0.5)
    return model.eval()


def test_round_trip_matches_eager_model(model: RankerModel, tmp_path) -> None:
    out = export_ranker(model, tmp_path / "ranker", model_version="v-test")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["inputs"] == list(RANKER_INPUTS) and manifest["feature_service"] == RANKING_SERVICE
    assert manifest["surfaces"] == list(SURFACES) and manifest["model_version"] == "v-test"
    assert {"created_at", "torch_version"} <= set(manifest)

    loaded = load_ranker(out, device="cpu")
    assert loaded.model_version == "v-test"
    x = np.random.default_rng(0).normal(size=(64, len(RANKER_INPUTS))).astype(np.float32)
    for index, surface in enumerate(SURFACES):
        expected = model(torch.from_numpy(x), torch.full((64,), index)).detach().numpy()
        got = loaded.score(x, surface)
        assert got.dtype == np.float32 and got.shape == (64,)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_scores_rows_built_by_the_shared_feature_function(model: RankerModel, tmp_path) -> None:
    loaded = load_ranker(export_ranker(model, tmp_path, "v1"))
    raw = pd.DataFrame(
        {"item_price": [10.0, None], "device": ["mobile", "tablet"], "retrieval_score": [0.3, 0.9]}
    )
    scores = loaded.score(ranker_inputs(raw), "related_items")
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()
    assert loaded.score(np.zeros((0, len(RANKER_INPUTS)), np.float32), "home_feed").shape == (0,)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("inputs", [*reversed(RANKER_INPUTS)]),
        ("inputs", list(RANKER_INPUTS[:-1])),
        ("feature_service", "ranking_v0"),
        ("surfaces", list(reversed(SURFACES))),
    ],
)
def test_manifest_that_disagrees_with_the_contract_is_refused(
    model: RankerModel, tmp_path, field: str, value: object
) -> None:
    out = export_ranker(model, tmp_path, "v-old")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    manifest[field] = value
    (out / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ManifestMismatchError):
        load_ranker(out)


def test_bad_input_is_rejected(model: RankerModel, tmp_path) -> None:
    loaded = load_ranker(export_ranker(model, tmp_path, "v1"), device="cpu")
    x = np.zeros((3, len(RANKER_INPUTS)), dtype=np.float32)
    x[1, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        loaded.score(x, "home_feed")
    with pytest.raises(ValueError, match="shape"):
        loaded.score(np.zeros((3, len(RANKER_INPUTS) - 1), np.float32), "home_feed")
    with pytest.raises(ValueError, match="shape"):
        loaded.score(np.zeros(len(RANKER_INPUTS), np.float32), "home_feed")
    with pytest.raises(ValueError, match="surface"):
        loaded.score(np.zeros((1, len(RANKER_INPUTS)), np.float32), "billboard")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_auto_device_uses_cuda_and_matches_cpu(model: RankerModel, tmp_path) -> None:
    out = export_ranker(model, tmp_path, "v1")
    on_gpu, on_cpu = load_ranker(out), load_ranker(out, device="cpu")
    assert on_gpu.device.type == "cuda"
    x = np.random.default_rng(1).normal(size=(256, len(RANKER_INPUTS))).astype(np.float32)
    np.testing.assert_allclose(on_gpu.score(x, "notifications"), on_cpu.score(x, "notifications"), atol=1e-5)

"""The light first stage: learns the planted signal, scores the same in NumPy as in torch, and
refuses weights trained on another input contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.config import RankerConfig
from training.data.ranking import surface_index
from training.export import ManifestMismatchError
from training.light_ranker import MANIFEST_FILE, export_light_ranker, keep_top, load_light_ranker
from training.ranking import LightRankerArtifacts, train_light_ranker


@pytest.fixture(scope="module")
def light(ranking_frame: pd.DataFrame, small_ranker_config: RankerConfig) -> LightRankerArtifacts:
    return train_light_ranker(ranking_frame, small_ranker_config, progress=False)


def test_learns_the_planted_signal(light: LightRankerArtifacts) -> None:
    assert light.val_auc > 0.7, light.val_auc


def test_numpy_scores_match_the_trained_model(
    light: LightRankerArtifacts, ranking_frame: pd.DataFrame, tmp_path: Path
) -> None:
    export_light_ranker(light.model, tmp_path, "v-test")
    served = load_light_ranker(tmp_path)
    rows = ranking_frame.head(500)
    x = rows[list(RANKER_INPUTS)].to_numpy(np.float32)
    surfaces = surface_index(rows["surface"])
    with torch.inference_mode():
        want = light.model(torch.from_numpy(x), torch.from_numpy(surfaces)).numpy()
    for index, surface in enumerate(SURFACES):
        mask = surfaces == index
        np.testing.assert_allclose(served.score(x[mask], surface), want[mask], rtol=1e-5, atol=1e-6)
    assert served.model_version == "v-test"


def test_refuses_another_input_contract_and_bad_rows(light: LightRankerArtifacts, tmp_path: Path) -> None:
    export_light_ranker(light.model, tmp_path, "v-test")
    served = load_light_ranker(tmp_path)
    with pytest.raises(ValueError, match="shape"):
        served.score(np.zeros((3, len(RANKER_INPUTS) - 1), np.float32), "home_feed")
    with pytest.raises(ValueError, match="NaN"):
        served.score(np.full((1, len(RANKER_INPUTS)), np.nan, np.float32), "home_feed")
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["inputs"] = list(reversed(manifest["inputs"]))
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ManifestMismatchError):
        load_light_ranker(tmp_path)


def test_keep_top_returns_the_best_positions_best_first() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.3], np.float32)
    assert keep_top(scores, 2).tolist() == [1, 3]
    assert keep_top(scores, 0).tolist() == [1, 3, 2, 4, 0], "0 keeps everything, ordered"
    assert keep_top(scores, 10).tolist() == [1, 3, 2, 4, 0]

"""Multi-surface ranker: Lightning smoke run, learning the planted signal, input validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.config import RankerConfig
from training.data.ranking import RankingDataModule, list_rows, surface_index
from training.models.ranking.ranker import RankerModel
from training.ranking import train_ranker
from training.trainer import make_trainer


def test_fast_dev_run(ranking_frame: pd.DataFrame, small_ranker_config: RankerConfig, tmp_path) -> None:
    datamodule = RankingDataModule(ranking_frame, small_ranker_config)
    datamodule.setup("fit")
    model = RankerModel(hidden_dims=small_ranker_config.hidden_dims, head_dim=small_ranker_config.head_dim)
    model.net.set_standardization(*datamodule.input_stats())
    trainer = make_trainer(max_epochs=1, fast_dev_run=True, progress=False, root_dir=tmp_path)
    trainer.fit(model, datamodule=datamodule)
    assert torch.isfinite(trainer.callback_metrics["train_loss"])


def test_forward_returns_one_probability_per_row() -> None:
    model = RankerModel(hidden_dims=(8,), head_dim=4).eval()
    x = torch.randn(6, len(RANKER_INPUTS))
    probs = model(x, torch.tensor([0, 1, 2, 0, 1, 2]))
    assert probs.shape == (6,) and bool(((probs >= 0) & (probs <= 1)).all())
    # heads differ: the same row scores differently per surface
    same_row = model(x[:1].repeat(3, 1), torch.arange(3))
    assert len(set(same_row.tolist())) == 3


def test_standardisation_is_learned_from_training_rows(ranking_frame: pd.DataFrame) -> None:
    datamodule = RankingDataModule(ranking_frame, RankerConfig())
    datamodule.setup("fit")
    mean, std = datamodule.input_stats()
    model = RankerModel()
    model.net.set_standardization(mean, std.clamp_min(0.0) * 0)  # zero std must not divide by zero
    assert torch.equal(model.net.std, torch.ones_like(std))
    assert "net.mean" in model.state_dict() and "net.std" in model.state_dict()


def test_train_ranker_learns_the_planted_signal(
    ranking_frame: pd.DataFrame, small_ranker_config: RankerConfig
) -> None:
    artifacts = train_ranker(ranking_frame, small_ranker_config, progress=False)
    assert artifacts.n_rows == len(ranking_frame)
    # Listwise: lists never mix surfaces, so the order within each surface is what is learned
    # (the heads' offsets against each other are free, and the pooled AUC means little).
    assert set(artifacts.surface_auc) == set(SURFACES)
    assert all(auc > 0.75 for auc in artifacts.surface_auc.values()), artifacts.surface_auc
    assert artifacts.train_seconds > 0 and artifacts.steps > 0
    assert 0 <= artifacts.best_epoch <= artifacts.epochs


def test_pointwise_loss_learns_calibrated_scores_across_surfaces(
    ranking_frame: pd.DataFrame, small_ranker_config: RankerConfig
) -> None:
    artifacts = train_ranker(ranking_frame, replace(small_ranker_config, loss="pointwise"), progress=False)
    assert artifacts.val_auc > 0.75, artifacts.val_auc
    assert all(auc > 0.65 for auc in artifacts.surface_auc.values()), artifacts.surface_auc


def test_bad_frames_are_refused(ranking_frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown surfaces"):
        surface_index(["home_feed", "billboard"])
    nan_frame = ranking_frame.head(50).copy()
    nan_frame.loc[nan_frame.index[0], "item_ctr"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RankingDataModule(nan_frame).setup("fit")
    with pytest.raises(ValueError, match="lacks columns"):
        RankingDataModule(ranking_frame.drop(columns=["retrieval_score"])).setup("fit")


def test_lists_keep_each_list_whole_and_cut_long_ones(ranking_frame: pd.DataFrame) -> None:
    frame = ranking_frame.head(300).assign(list_id=[f"user{i % 7}" for i in range(300)])
    rows = list_rows(frame, max_list=20, seed=0)
    valid = rows >= 0
    assert (valid.sum(axis=1) <= 20).all()
    assert sorted(rows[valid].tolist()) == list(range(300))  # every row once
    for chunk in rows:
        assert len({frame["list_id"].iloc[r] for r in chunk[chunk >= 0]}) == 1  # one list per chunk


def test_a_batch_of_lists_is_padded_and_masked(ranking_frame: pd.DataFrame) -> None:
    frame = ranking_frame.head(30).assign(list_id=["a"] * 20 + ["b"] * 10, label=[1] + [0] * 29)
    datamodule = RankingDataModule(frame, RankerConfig(val_fraction=0.0))
    datamodule.setup("fit")
    assert datamodule.train_set is not None
    batch = datamodule.train_set[[0, 1]]
    assert batch["x"].shape == (2, 20, len(RANKER_INPUTS)) and batch["valid"].sum().item() == 30
    assert batch["y"][~batch["valid"]].sum().item() == 0  # padding is never a positive

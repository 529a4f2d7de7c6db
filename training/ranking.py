"""Train the multi-surface ranker on labelled candidate rows (called by the ranking assets)."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.callbacks import KeepBestWeights
from training.config import RankerConfig
from training.data.ranking import RankingDataModule
from training.evaluation.metrics import roc_auc
from training.models.ranking.light import LightRankerModel
from training.models.ranking.ranker import RankerBag, RankerModel
from training.recommenders.threads import torch_threads
from training.trainer import make_trainer

SCORE_BATCH = 65_536


@dataclass
class RankerArtifacts:
    """The trained ranker and how it did on the held-out rows."""

    model: RankerModel
    val_auc: float
    train_seconds: float
    n_rows: int
    epochs: int = 0
    best_epoch: int = -1
    steps: int = 0
    surface_auc: dict[str, float] = field(default_factory=dict)


def predict(model: RankerModel, x: torch.Tensor, surface: torch.Tensor) -> np.ndarray:
    """Eval-mode probabilities for many rows, chunked to bound memory."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for start in range(0, len(x), SCORE_BATCH):
            stop = start + SCORE_BATCH
            out.append(model(x[start:stop].to(device), surface[start:stop].to(device)).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def _fit(
    model: pl.LightningModule,
    set_standardization: Callable[[torch.Tensor, torch.Tensor], None],
    frame: pd.DataFrame,
    config: RankerConfig,
    max_steps: int,
    progress: bool,
) -> tuple[RankingDataModule, pl.Trainer, KeepBestWeights]:
    """Both stages: the same lists, seeded split and input standardisation; trained until the
    held-out lists' loss stops improving, the best epoch kept; the model ends on the CPU."""
    datamodule = RankingDataModule(frame, config)
    datamodule.setup("fit")
    set_standardization(*datamodule.input_stats())
    best = KeepBestWeights("val_loss")
    with tempfile.TemporaryDirectory(prefix="ranker_") as tmp, torch_threads(config.torch_threads):
        trainer = make_trainer(
            max_epochs=config.max_epochs, max_steps=max_steps, progress=progress, root_dir=tmp
        )
        trainer.callbacks.extend([best, EarlyStopping("val_loss", patience=config.patience)])
        trainer.fit(model, datamodule=datamodule)
    model.cpu().eval()
    return datamodule, trainer, best


def train_ranker(
    frame: pd.DataFrame, config: RankerConfig | None = None, progress: bool = True
) -> RankerArtifacts:
    """Fit the ranker on ``RANKER_INPUTS`` + ``label`` + ``surface`` rows; AUC on a seeded holdout."""
    config = config or RankerConfig()
    started = time.perf_counter()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    model = RankerModel(
        n_inputs=len(RANKER_INPUTS),
        surfaces=SURFACES,
        hidden_dims=config.hidden_dims,
        head_dim=config.head_dim,
        dropout=config.dropout,
        lr=config.lr,
        weight_decay=config.weight_decay,
        loss=config.loss,
    )
    datamodule, trainer, best = _fit(
        model, model.net.set_standardization, frame, config, config.max_steps, progress
    )
    # Score the holdout once more with the kept (best-epoch) weights.
    val = datamodule.val_rows()
    scores = predict(model, val["x"], val["surface"])
    labels, surfaces = val["y"].numpy(), val["surface"].numpy()
    surface_auc = {
        name: roc_auc(labels[surfaces == i], scores[surfaces == i]) for i, name in enumerate(SURFACES)
    }
    return RankerArtifacts(
        model=model,
        val_auc=roc_auc(labels, scores),
        train_seconds=time.perf_counter() - started,
        n_rows=datamodule.n_rows,
        epochs=int(trainer.current_epoch),
        best_epoch=best.epoch,
        steps=int(trainer.global_step),
        surface_auc=surface_auc,
    )


@dataclass
class RankerBagArtifacts:
    """The served full ranker: ``bag_size`` members and how their average did on the holdout."""

    model: RankerBag
    val_auc: float
    member_auc: list[float]
    train_seconds: float
    n_rows: int


def train_ranker_bag(
    frame: pd.DataFrame, config: RankerConfig | None = None, progress: bool = True
) -> RankerBagArtifacts:
    """``config.bag_size`` rankers on the same rows and holdout, seeded ``seed``, ``seed + 1``, ...

    Members differ in initialisation, dropout and batch order, never in the holdout, so the
    average's AUC is measured on rows no member trained on.
    """
    config = config or RankerConfig()
    started = time.perf_counter()
    seeds = [config.seed + k for k in range(max(config.bag_size, 1))]
    members = [
        train_ranker(frame, dataclasses.replace(config, seed=seed, split_seed=config.seed), progress)
        for seed in seeds
    ]
    bag = RankerBag([m.model.net for m in members]).eval()
    datamodule = RankingDataModule(frame, dataclasses.replace(config, split_seed=config.seed))
    datamodule.setup("fit")
    val = datamodule.val_rows()
    with torch.inference_mode():
        scores = bag(val["x"], val["surface"]).numpy()
    return RankerBagArtifacts(
        model=bag,
        val_auc=roc_auc(val["y"].numpy(), scores),
        member_auc=[m.val_auc for m in members],
        train_seconds=time.perf_counter() - started,
        n_rows=members[0].n_rows,
    )


@dataclass
class LightRankerArtifacts:
    model: LightRankerModel
    val_auc: float
    train_seconds: float


def train_light_ranker(
    frame: pd.DataFrame, config: RankerConfig | None = None, progress: bool = True
) -> LightRankerArtifacts:
    """Fit the first stage on the same rows and seeded split as the full ranker."""
    config = config or RankerConfig()
    started = time.perf_counter()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    model = LightRankerModel(
        n_inputs=len(RANKER_INPUTS),
        surfaces=SURFACES,
        lr=config.light_lr,
        weight_decay=config.light_weight_decay,
        loss=config.loss,
    )
    datamodule, _, _ = _fit(model, model.set_standardization, frame, config, config.max_steps, progress)
    val = datamodule.val_rows()
    with torch.inference_mode():
        scores = model(val["x"], val["surface"]).numpy()
    return LightRankerArtifacts(model, roc_auc(val["y"].numpy(), scores), time.perf_counter() - started)

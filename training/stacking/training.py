"""Fit the listwise ranker on labelled candidate sets (Lightning, through the shared Trainer recipe).

A single ranker trained on a few hundred users' lists is noisy: its test NDCG moves with the seed by
as much as the margin over the best baseline. So ``n_rankers`` rankers are bagged, each with its own
seed and its own held-out users, and each keeps the weights of its best epoch by that held-out
``val_loss`` (early stopping on the validation split, never on test). Their scores are averaged.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping

from training.callbacks import KeepBestWeights
from training.data.loaders import ColumnBatchDataset, batch_loader, seeded_split
from training.recommenders.threads import torch_threads
from training.stacking.candidates import CandidateSet
from training.stacking.config import StackingConfig
from training.stacking.model import ListwiseRanker
from training.trainer import make_trainer

SCORE_BATCH = 4096


class _Data(pl.LightningDataModule):
    def __init__(
        self, train: ColumnBatchDataset, val: ColumnBatchDataset, batch_users: int, seed: int
    ) -> None:
        super().__init__()
        self.train, self.val, self.batch_users, self.seed = train, val, batch_users, seed

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return batch_loader(self.train, self.batch_users, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        return batch_loader(self.val, self.batch_users * 8, shuffle=False)


class RankerBag(torch.nn.Module):
    """The bagged rankers; ``forward`` is their mean score (softmax-invariant per user, so comparable)."""

    def __init__(self, rankers: list[ListwiseRanker]) -> None:
        super().__init__()
        self.rankers = torch.nn.ModuleList(rankers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.stack([r(features) for r in self.rankers]).mean(dim=0)


def _train_one(
    everything: ColumnBatchDataset, config: StackingConfig, seed: int, progress: bool
) -> tuple[ListwiseRanker, dict[str, float]]:
    pl.seed_everything(seed, workers=True, verbose=False)
    train_rows, val_rows = seeded_split(len(everything), config.val_fraction, seed)
    train, val = everything.subset(train_rows), everything.subset(val_rows)
    model = ListwiseRanker(
        n_features=everything.columns["x"].shape[-1], hidden_dims=config.hidden_dims,
        dropout=config.dropout, lr=config.lr, weight_decay=config.weight_decay,
    )  # fmt: skip
    x, valid = train.columns["x"], train.columns["valid"]
    rows = x[valid].double()
    model.scorer.set_standardization(rows.mean(dim=0).float(), rows.std(dim=0, unbiased=False).float())
    keep = KeepBestWeights()
    with tempfile.TemporaryDirectory(prefix="stacked_ranker_") as tmp:
        trainer = make_trainer(max_epochs=config.max_epochs, progress=progress, root_dir=tmp)
        trainer.callbacks.extend([keep, EarlyStopping("val_loss", patience=config.patience)])
        trainer.fit(model, datamodule=_Data(train, val, config.batch_users, seed))
    model.cpu().eval()
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    return model, metrics | {"best_val_loss": keep.best, "best_epoch": float(keep.epoch)}


def train_listwise(
    candidates: CandidateSet, labels: np.ndarray, config: StackingConfig, progress: bool = False
) -> tuple[RankerBag, dict[str, float]]:
    """Train on users with at least one relevant candidate; returns the bag and its mean metrics."""
    keep = labels.sum(axis=1) > 0
    if not keep.any():
        raise ValueError("no user has a relevant candidate: the ranker has nothing to learn from")
    columns = {
        "x": torch.from_numpy(np.ascontiguousarray(candidates.features[keep])),
        "y": torch.from_numpy(labels[keep]),
        "valid": torch.from_numpy(candidates.valid[keep]),
    }
    everything = ColumnBatchDataset(columns)
    with torch_threads(config.torch_threads):
        fitted = [_train_one(everything, config, config.seed + i, progress) for i in range(config.n_rankers)]
    names = sorted(set.intersection(*(set(m) for _, m in fitted)))
    metrics = {k: float(np.mean([m[k] for _, m in fitted])) for k in names}
    bag = RankerBag([model for model, _ in fitted]).eval()
    return bag, metrics | {"users": float(keep.sum()), "rankers": float(len(fitted))}


def score_candidates(
    model: torch.nn.Module, candidates: CandidateSet, threads: int | None = None
) -> np.ndarray:
    """Ranker scores [n, C]; padding slots get -inf."""
    model.eval()
    out = []
    with torch.inference_mode(), torch_threads(threads):
        for start in range(0, len(candidates.users), SCORE_BATCH):
            x = torch.from_numpy(candidates.features[start : start + SCORE_BATCH])
            out.append(model(x).float().numpy())
    scores = np.concatenate(out, axis=0) if out else np.zeros(candidates.items.shape, np.float32)
    return np.where(candidates.valid, scores, -np.inf)

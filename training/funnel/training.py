"""Fit the listwise ranker on labelled candidate sets (Lightning, through the shared Trainer recipe)."""

from __future__ import annotations

import tempfile

import numpy as np
import pytorch_lightning as pl
import torch

from training.data.loaders import ColumnBatchDataset, batch_loader, seeded_split
from training.funnel.candidates import CandidateSet
from training.funnel.config import FunnelConfig
from training.funnel.model import ListwiseRanker
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


def train_listwise(
    candidates: CandidateSet, labels: np.ndarray, config: FunnelConfig, progress: bool = False
) -> tuple[ListwiseRanker, dict[str, float]]:
    """Train on users with at least one relevant candidate; returns the model and its last metrics."""
    keep = labels.sum(axis=1) > 0
    if not keep.any():
        raise ValueError("no user has a relevant candidate: the ranker has nothing to learn from")
    pl.seed_everything(config.seed, workers=True, verbose=False)
    columns = {
        "x": torch.from_numpy(np.ascontiguousarray(candidates.features[keep])),
        "y": torch.from_numpy(labels[keep]),
        "valid": torch.from_numpy(candidates.valid[keep]),
    }
    everything = ColumnBatchDataset(columns)
    train_rows, val_rows = seeded_split(len(everything), config.val_fraction, config.seed)
    train, val = everything.subset(train_rows), everything.subset(val_rows)
    model = ListwiseRanker(
        n_features=columns["x"].shape[-1], hidden_dims=config.hidden_dims, dropout=config.dropout,
        lr=config.lr, weight_decay=config.weight_decay,
    )  # fmt: skip
    x, valid = train.columns["x"], train.columns["valid"]
    rows = x[valid].double()
    model.scorer.set_standardization(rows.mean(dim=0).float(), rows.std(dim=0, unbiased=False).float())
    with tempfile.TemporaryDirectory(prefix="funnel_ranker_") as tmp:
        trainer = make_trainer(max_epochs=config.max_epochs, progress=progress, root_dir=tmp)
        trainer.fit(model, datamodule=_Data(train, val, config.batch_users, config.seed))
    model.cpu().eval()
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    return model, metrics | {"users": float(keep.sum()), "epochs": float(trainer.current_epoch)}


def score_candidates(model: ListwiseRanker, candidates: CandidateSet) -> np.ndarray:
    """Ranker scores [n, C]; padding slots get -inf."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(candidates.users), SCORE_BATCH):
            x = torch.from_numpy(candidates.features[start : start + SCORE_BATCH])
            out.append(model(x).float().numpy())
    scores = np.concatenate(out, axis=0) if out else np.zeros(candidates.items.shape, np.float32)
    return np.where(candidates.valid, scores, -np.inf)

"""Labelled ranker rows: the ``RANKER_INPUTS`` matrix, a 0/1 label and the surface index.

Inputs must already be numeric, produced by ``contracts.features.ranker_inputs``, the same
function serving calls, so training sees exactly what the served model will see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.config import RankerConfig
from training.data.loaders import ColumnBatchDataset, batch_loader, seeded_split


def surface_index(surfaces: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Surface names -> positions in ``SURFACES`` (the head order); unknown names raise."""
    codes = pd.Index(list(SURFACES)).get_indexer(pd.Series(surfaces).astype(str))
    if (codes < 0).any():
        bad = sorted(set(pd.Series(surfaces)[codes < 0].astype(str)))[:5]
        raise ValueError(f"unknown surfaces {bad}; expected one of {SURFACES}")
    return codes.astype(np.int64)


def frame_to_tensors(frame: pd.DataFrame) -> dict[str, torch.Tensor]:
    """Validate a labelled frame and return ``x`` [n, d] float32, ``y`` [n] float32, ``surface`` [n]."""
    missing = [c for c in (*RANKER_INPUTS, "label", "surface") if c not in frame]
    if missing:
        raise ValueError(f"ranking frame lacks columns {missing}")
    x = frame[list(RANKER_INPUTS)].to_numpy(np.float32)
    if not np.isfinite(x).all():
        raise ValueError("ranking inputs contain NaN or inf; build them with contracts.features.ranker_inputs")
    y = frame["label"].to_numpy(np.float32)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("label must be 0 or 1")
    return {
        "x": torch.from_numpy(np.ascontiguousarray(x)),
        "y": torch.from_numpy(y),
        "surface": torch.from_numpy(surface_index(frame["surface"])),
    }


class RankingDataModule(pl.LightningDataModule):
    """Seeded train/val split of labelled candidate rows; exposes train-set input statistics."""

    def __init__(self, frame: pd.DataFrame, config: RankerConfig | None = None) -> None:
        super().__init__()
        self.config = config or RankerConfig()
        self.frame = frame
        self.train_set: ColumnBatchDataset | None = None
        self.val_set: ColumnBatchDataset | None = None
        self.n_rows = len(frame)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        if self.n_rows == 0:
            raise ValueError("empty ranking frame: nothing to train on")
        everything = ColumnBatchDataset(frame_to_tensors(self.frame))
        split_seed = self.config.seed if self.config.split_seed is None else self.config.split_seed
        train_rows, val_rows = seeded_split(self.n_rows, self.config.val_fraction, split_seed)
        self.train_set = everything.subset(train_rows)
        self.val_set = everything.subset(val_rows)

    def input_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of the training inputs, for the model's standardisation buffers."""
        assert self.train_set is not None, "call setup() first"
        x = self.train_set.columns["x"].double()
        return x.mean(dim=0).float(), x.std(dim=0, unbiased=False).float()

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup() first"
        return batch_loader(self.train_set, self.config.batch_size, shuffle=True, seed=self.config.seed)

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "call setup() first"
        return batch_loader(self.val_set, self.config.batch_size * 4, shuffle=False)

"""Labelled ranker rows grouped into lists: the ``RANKER_INPUTS`` matrix, a 0/1 label, the surface.

Inputs must already be numeric, produced by ``contracts.features.ranker_inputs``, the same
function serving calls, so training sees exactly what the served model will see.

Rows come in lists (``list_id``: one user's replayed candidates, one session's slates) because
the rankers are trained listwise: serving asks them to order one request's candidates, so the loss
compares each positive with the other candidates of its own list. A frame without ``list_id``
(synthetic rows) is cut into seeded random lists per surface.
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

LIST_ID = "list_id"
SAMPLE_WEIGHT = "sample_weight"  # a sampled row's inverse probability (``ranking.pool``)


def surface_index(surfaces: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Surface names -> positions in ``SURFACES`` (the head order); unknown names raise."""
    codes = pd.Index(list(SURFACES)).get_indexer(pd.Series(surfaces).astype(str))
    if (codes < 0).any():
        bad = sorted(set(pd.Series(surfaces)[codes < 0].astype(str)))[:5]
        raise ValueError(f"unknown surfaces {bad}; expected one of {SURFACES}")
    return codes.astype(np.int64)


def frame_to_tensors(frame: pd.DataFrame) -> dict[str, torch.Tensor]:
    """Validate a labelled frame: ``x`` [n, d] float32, ``y`` [n] float32, ``surface`` [n] and
    ``weight`` [n] (``sample_weight``, 1 when absent)."""
    missing = [c for c in (*RANKER_INPUTS, "label", "surface") if c not in frame]
    if missing:
        raise ValueError(f"ranking frame lacks columns {missing}")
    x = frame[list(RANKER_INPUTS)].to_numpy(np.float32)
    if not np.isfinite(x).all():
        raise ValueError("ranking inputs contain NaN or inf; build them with contracts.features.ranker_inputs")
    y = frame["label"].to_numpy(np.float32)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("label must be 0 or 1")
    weight = frame[SAMPLE_WEIGHT].to_numpy(np.float32) if SAMPLE_WEIGHT in frame else np.ones(len(y), np.float32)
    if not (np.isfinite(weight).all() and (weight > 0).all()):
        raise ValueError(f"{SAMPLE_WEIGHT} must be positive and finite")
    return {
        "x": torch.from_numpy(np.ascontiguousarray(x)),
        "y": torch.from_numpy(y),
        "surface": torch.from_numpy(surface_index(frame["surface"])),
        "weight": torch.from_numpy(weight),
    }


def list_rows(frame: pd.DataFrame, max_list: int, seed: int) -> np.ndarray:
    """[lists, L] row positions of each list, -1 padded; lists longer than ``max_list`` are cut
    into seeded random chunks (each still a fair sample of its list's candidates)."""
    rng = np.random.default_rng(seed)
    if LIST_ID in frame:
        keys = frame[LIST_ID].astype(str).to_numpy()
    else:  # no lists given: random lists of max_list rows within each surface
        keys = frame["surface"].astype(str).to_numpy()
    codes = pd.factorize(keys)[0]
    order = np.lexsort((rng.random(len(codes)), codes))  # shuffled within each list
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    chunks: list[np.ndarray] = []
    for start, length in zip(starts, lengths, strict=True):
        for offset in range(0, length, max_list):
            chunks.append(order[start + offset : start + min(offset + max_list, length)])
    width = max((len(c) for c in chunks), default=0)
    rows = np.full((len(chunks), width), -1, dtype=np.int64)
    for i, chunk in enumerate(chunks):
        rows[i, : len(chunk)] = np.sort(chunk)
    return rows


class ListDataset(ColumnBatchDataset):
    """Lists of rows: ``dataset[lists]`` gathers ``x`` [b, L, d], ``y`` and ``surface`` [b, L] and
    ``valid`` [b, L], trimmed to the batch's longest list."""

    def __init__(self, rows: dict[str, torch.Tensor], lists: torch.Tensor) -> None:
        super().__init__({"lists": lists})
        self.rows = rows

    def __getitem__(self, index: list[int]) -> dict[str, torch.Tensor]:  # type: ignore[override]
        lists = super().__getitem__(index)["lists"]
        valid = lists >= 0
        width = int(valid.sum(dim=1).max()) if len(lists) else 0
        lists, valid = lists[:, :width], valid[:, :width]
        safe = lists.clamp_min(0)
        batch = {name: column[safe] for name, column in self.rows.items()}
        batch["y"] = batch["y"] * valid
        return batch | {"valid": valid}

    def subset(self, rows: torch.Tensor) -> ListDataset:
        return ListDataset(self.rows, self.columns["lists"].index_select(0, rows))

    def row_positions(self) -> torch.Tensor:
        lists = self.columns["lists"]
        return lists[lists >= 0]


class RankingDataModule(pl.LightningDataModule):
    """Seeded train/val split of whole lists; exposes train-set input statistics."""

    def __init__(self, frame: pd.DataFrame, config: RankerConfig | None = None) -> None:
        super().__init__()
        self.config = config or RankerConfig()
        self.frame = frame
        self.train_set: ListDataset | None = None
        self.val_set: ListDataset | None = None
        self.n_rows = len(frame)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        if self.n_rows == 0:
            raise ValueError("empty ranking frame: nothing to train on")
        rows = frame_to_tensors(self.frame)
        split_seed = self.config.seed if self.config.split_seed is None else self.config.split_seed
        lists = torch.from_numpy(list_rows(self.frame, self.config.max_list, split_seed))
        everything = ListDataset(rows, lists)
        train_lists, val_lists = seeded_split(len(lists), self.config.val_fraction, split_seed)
        self.train_set = everything.subset(train_lists)
        self.val_set = everything.subset(val_lists)

    def input_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of the training inputs, for the model's standardisation buffers."""
        assert self.train_set is not None, "call setup() first"
        x = self.train_set.rows["x"][self.train_set.row_positions()].double()
        return x.mean(dim=0).float(), x.std(dim=0, unbiased=False).float()

    def val_rows(self) -> dict[str, torch.Tensor]:
        """The held-out lists' rows, flat (``x``, ``y``, ``surface``), for row-level metrics."""
        assert self.val_set is not None, "call setup() first"
        positions = self.val_set.row_positions()
        return {name: column[positions] for name, column in self.val_set.rows.items()}

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup() first"
        return batch_loader(self.train_set, self.config.batch_lists, shuffle=True, seed=self.config.seed)

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "call setup() first"
        return batch_loader(self.val_set, self.config.batch_lists * 4, shuffle=False)

"""Lightning callbacks shared by the models: keep the weights of the best validation epoch."""

from __future__ import annotations

import copy

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback


class KeepBestWeights(Callback):
    """Remembers the module's weights at the epoch of lowest ``monitor``; restores them at the end.

    Early stopping alone ends ``patience`` epochs past the best one; this hands back the best.
    """

    def __init__(self, monitor: str = "val_loss") -> None:
        self.monitor = monitor
        self.best = float("inf")
        self.epoch = -1
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is not None and float(value) < self.best:
            self.best, self.epoch = float(value), trainer.current_epoch
            self.state = copy.deepcopy(pl_module.state_dict())

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.state is not None:
            pl_module.load_state_dict(self.state)

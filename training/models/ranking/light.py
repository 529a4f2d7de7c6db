"""The light first-stage ranker: one logistic regression per surface over the ranker inputs.

It exists to cut ~1,000 retrieved candidates to the ~200 the full ranker scores, so it must cost
almost nothing per row: a standardised dot product. Serving runs it with NumPy on the request's
own CPU (``training.light_ranker.LightRanker``), next to retrieval, before the one batched call
to the full model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.models.ranking.losses import Loss, ranking_loss
from training.models.ranking.ranker import ValidationRows


class LightRankerModel(pl.LightningModule):
    """Standardise -> one linear logit per surface, trained on lists as the full ranker is."""

    def __init__(
        self,
        n_inputs: int = len(RANKER_INPUTS),
        surfaces: Sequence[str] = SURFACES,
        lr: float = 1e-2,
        weight_decay: float = 1e-4,
        loss: Loss = "listwise",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))
        self.linear = nn.Linear(n_inputs, len(surfaces))
        self._val = ValidationRows(surfaces)

    def set_standardization(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def logits(self, x: Tensor, surface: Tensor) -> Tensor:
        per_surface = self.linear((x - self.mean) / self.std)
        return per_surface.gather(1, surface.view(-1, 1)).squeeze(1)

    def forward(self, x: Tensor, surface: Tensor) -> Tensor:
        return torch.sigmoid(self.logits(x, surface))

    def list_logits(self, batch: dict[str, Tensor]) -> Tensor:
        x, surface = batch["x"], batch["surface"]
        return self.logits(x.flatten(0, 1), surface.flatten()).view(surface.shape)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss = ranking_loss(self.hparams["loss"], self.list_logits(batch), batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=len(batch["y"]))
        return loss

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        logits = self.list_logits(batch)
        loss = ranking_loss(self.hparams["loss"], logits, batch)
        self.log("val_loss", loss, batch_size=len(logits))
        self._val.add(logits, batch)

    def on_validation_epoch_end(self) -> None:
        auc = self._val.aucs().get("val_auc")
        if auc is not None:
            self.log("val_auc", auc, prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"]
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything serving needs, as plain arrays: mean, std, weight [surfaces, inputs], bias."""
        return {
            "mean": self.mean.detach().cpu().numpy().astype(np.float32),
            "std": self.std.detach().cpu().numpy().astype(np.float32),
            "weight": self.linear.weight.detach().cpu().numpy().astype(np.float32),
            "bias": self.linear.bias.detach().cpu().numpy().astype(np.float32),
        }

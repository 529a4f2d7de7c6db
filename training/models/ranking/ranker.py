"""Multi-surface ranker: one shared MLP base, one head per surface.

Surfaces share most of what makes an item relevant but differ in what a click means (a
notification tap is not a feed click), so each gets its own head over the shared representation.
``RankerNet`` is the plain, TorchScript-able network that serving loads; ``RankerModel`` wraps it
with the training loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.evaluation.metrics import roc_auc
from training.models.ranking.losses import Loss, ranking_loss


class RankerNet(nn.Module):
    """Standardise -> shared MLP -> per-surface logit; ``forward`` returns probabilities."""

    def __init__(
        self, n_inputs: int, n_surfaces: int, hidden_dims: Sequence[int], head_dim: int, dropout: float
    ) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("std", torch.ones(n_inputs))
        layers: list[nn.Module] = []
        width = n_inputs
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.base = nn.Sequential(*layers)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(width, head_dim), nn.ReLU(), nn.Linear(head_dim, 1))
            for _ in range(n_surfaces)
        )

    def set_standardization(self, mean: Tensor, std: Tensor) -> None:
        """Constant inputs (std ~ 0) are only centred, never divided by ~0."""
        self.mean.copy_(mean)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def logits(self, x: Tensor, surface: Tensor) -> Tensor:
        hidden = self.base((x - self.mean) / self.std)
        per_head: list[Tensor] = []
        for head in self.heads:
            per_head.append(head(hidden))
        stacked = torch.cat(per_head, dim=1)
        return stacked.gather(1, surface.view(-1, 1)).squeeze(1)

    def forward(self, x: Tensor, surface: Tensor) -> Tensor:
        """x: float [n, len(RANKER_INPUTS)], surface: long [n] index into SURFACES -> P(click) [n]."""
        return torch.sigmoid(self.logits(x, surface))


class RankerBag(nn.Module):
    """The mean probability of several ``RankerNet``s trained alike from different seeds.

    One seed's ranker can land well below its siblings on the same rows (on the demo replay,
    NDCG@10 0.121 against 0.136 and 0.138); averaging three costs three small MLPs over ~200
    candidates and takes the bad draw out. Scripted and served exactly like a single net.
    """

    def __init__(self, members: Sequence[RankerNet]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a bag needs at least one ranker")
        self.members = nn.ModuleList(members)

    def forward(self, x: Tensor, surface: Tensor) -> Tensor:
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for member in self.members:
            total = total + member(x, surface)
        return total / len(self.members)


class RankerModel(pl.LightningModule):
    """Trains ``RankerNet`` on lists of candidates (``training.data.ranking``) with ``loss``
    (listwise by default); logs ``{stage}_loss`` and the row-level ``val_auc``."""

    def __init__(
        self,
        n_inputs: int = len(RANKER_INPUTS),
        surfaces: Sequence[str] = SURFACES,
        hidden_dims: Sequence[int] = (128, 64),
        head_dim: int = 32,
        dropout: float = 0.1,
        lr: float = 2e-3,
        weight_decay: float = 1e-5,
        loss: Loss = "listwise",
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = RankerNet(n_inputs, len(surfaces), list(hidden_dims), head_dim, dropout)
        self._val = ValidationRows(surfaces)

    def forward(self, x: Tensor, surface: Tensor) -> Tensor:
        return self.net(x, surface)

    def list_logits(self, batch: dict[str, Tensor]) -> Tensor:
        x, surface = batch["x"], batch["surface"]
        return self.net.logits(x.flatten(0, 1), surface.flatten()).view(surface.shape)

    def _common_step(self, batch: dict[str, Tensor], stage: str) -> tuple[Tensor, Tensor]:
        logits = self.list_logits(batch)
        loss = ranking_loss(self.hparams["loss"], logits, batch)
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=len(logits))
        return loss, logits

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._common_step(batch, "train")[0]

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss, logits = self._common_step(batch, "val")
        self._val.add(logits, batch)
        return loss

    def on_validation_epoch_end(self) -> None:
        for name, value in self._val.aucs().items():
            self.log(name, value, prog_bar=name == "val_auc")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"]
        )


class ValidationRows:
    """Collects the valid slots' logits, labels and surfaces of a validation epoch for AUCs."""

    def __init__(self, surfaces: Sequence[str]) -> None:
        self.surfaces = list(surfaces)
        self._parts: list[tuple[Tensor, Tensor, Tensor]] = []

    def add(self, logits: Tensor, batch: dict[str, Tensor]) -> None:
        valid = batch["valid"]
        self._parts.append(
            (logits[valid].detach().float().cpu(), batch["y"][valid].cpu(), batch["surface"][valid].cpu())
        )

    def aucs(self) -> dict[str, float]:
        """``val_auc`` over every row and ``val_auc_<surface>`` per surface, where defined."""
        if not self._parts:
            return {}
        scores, labels, surfaces = (torch.cat(part).numpy() for part in zip(*self._parts, strict=True))
        self._parts.clear()
        out = {"val_auc": roc_auc(labels, scores)}
        for index, name in enumerate(self.surfaces):
            mask = surfaces == index
            out[f"val_auc_{name}"] = roc_auc(labels[mask], scores[mask])
        return {name: float(value) for name, value in out.items() if np.isfinite(value)}

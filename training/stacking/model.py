"""The stacked recommender's ranker: one MLP scores each candidate, a softmax over each user's list trains it.

Listwise because the metric is listwise: NDCG cares which of a user's candidates come first, not
calibrated click probabilities, so the loss is the cross-entropy of the softmax over the user's
candidates against their (multi-hot) relevant items, averaged over the relevant ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import Tensor, nn

from training.models.ranking.losses import listwise_loss


class CandidateScorer(nn.Module):
    """Standardise -> MLP -> one score per candidate; plain ``nn.Module`` so serving can load it."""

    def __init__(self, n_features: int, hidden_dims: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        layers: list[nn.Module] = []
        width = n_features
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def set_standardization(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, features: Tensor) -> Tensor:
        """features [..., F] -> scores [...]."""
        return self.mlp((features - self.mean) / self.std).squeeze(-1)


class ListwiseRanker(pl.LightningModule):
    """Trains ``CandidateScorer`` on batches of users: ``x`` [b, C, F], ``y`` [b, C], ``valid`` [b, C]."""

    def __init__(
        self,
        n_features: int,
        hidden_dims: Sequence[int] = (64, 32),
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.scorer = CandidateScorer(n_features, list(hidden_dims), dropout)

    def forward(self, features: Tensor) -> Tensor:
        return self.scorer(features)

    def _common_step(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        loss = listwise_loss(self.scorer(batch["x"]), batch["y"], batch["valid"])
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=len(batch["x"]))
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._common_step(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._common_step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"]
        )

"""Two-tower retrieval: user and item towers meeting in one normalized embedding space.

Inner products of the L2-normalized outputs are cosine similarities, which is what the FAISS
inner-product index searches. Id embeddings are dropped to the "unknown" row during training so
the side-feature path alone yields useful vectors for cold users and items. The user tower also
reads a bag of the user's recent items (its own embedding table, mean-pooled), dropped like ids so
that profile-only users are trained for too.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from training.data.features import ITEM_KEYS, RECENT_KEY, USER_KEYS
from training.data.vocab import UNKNOWN_INDEX


def _mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))


def _id_embedding(rows: int, dim: int) -> nn.Embedding:
    # Small init: an untrained id vector should not drown out the side features.
    table = nn.Embedding(rows, dim)
    nn.init.normal_(table.weight, std=0.01)
    return table


class TwoTowerModel(pl.LightningModule):
    """In-batch sampled-softmax two-tower model with temperature and logQ correction."""

    def __init__(
        self,
        cardinalities: dict[str, int],
        embedding_dim: int = 64,
        hidden_dim: int = 128,
        side_dim: int = 16,
        title_dim: int = 32,
        temperature: float = 0.05,
        logq_correction: bool = True,
        id_dropout: float = 0.25,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        c, d = cardinalities, embedding_dim
        self.user_id = _id_embedding(c["user_idx"], d)
        self.user_side = nn.ModuleDict({k: nn.Embedding(c[k], side_dim) for k in USER_KEYS[1:]})
        self.user_recent = nn.EmbeddingBag(c["item_idx"], d, mode="mean", padding_idx=UNKNOWN_INDEX)
        nn.init.normal_(self.user_recent.weight, std=0.01)
        with torch.no_grad():
            self.user_recent.weight[UNKNOWN_INDEX].zero_()
        self.user_mlp = _mlp(2 * d + side_dim * len(self.user_side), hidden_dim, d)
        self.item_id = _id_embedding(c["item_idx"], d)
        self.item_side = nn.ModuleDict({k: nn.Embedding(c[k], side_dim) for k in ITEM_KEYS[1:4]})
        self.item_title = nn.EmbeddingBag(c["title_tokens"], title_dim, mode="mean", padding_idx=0)
        self.item_mlp = _mlp(d + side_dim * len(self.item_side) + title_dim, hidden_dim, d)

    # ---- towers -------------------------------------------------------------------------------
    def encode_users(self, features: dict[str, Tensor]) -> Tensor:
        """``features`` holds ``USER_KEYS`` int tensors [n] and optionally ``RECENT_KEY`` [n, R]
        (absent: no history); returns unit vectors [n, d]."""
        ids = features["user_idx"]
        recent = features.get(RECENT_KEY)
        if recent is None:
            recent = torch.full((len(ids), 1), UNKNOWN_INDEX, dtype=torch.long, device=ids.device)
        parts = [self.user_id(ids), self.user_recent(recent)]
        parts += [self.user_side[k](features[k]) for k in USER_KEYS[1:]]
        return F.normalize(self.user_mlp(torch.cat(parts, dim=1)), dim=1)

    def encode_items(self, features: dict[str, Tensor]) -> Tensor:
        """``features`` holds ``ITEM_KEYS`` (title_tokens is [n, T]); returns unit vectors [n, d]."""
        parts = [self.item_id(features["item_idx"])]
        parts += [self.item_side[k](features[k]) for k in ITEM_KEYS[1:4]]
        parts.append(self.item_title(features["title_tokens"]))
        return F.normalize(self.item_mlp(torch.cat(parts, dim=1)), dim=1)

    def forward(self, users: dict[str, Tensor], items: dict[str, Tensor]) -> Tensor:
        """Cosine score of aligned (user, item) rows."""
        return (self.encode_users(users) * self.encode_items(items)).sum(dim=1)

    # ---- training -----------------------------------------------------------------------------
    def _drop_ids(self, ids: Tensor) -> Tensor:
        if not self.training or self.hparams["id_dropout"] <= 0:
            return ids
        drop = torch.rand(ids.shape, device=ids.device) < self.hparams["id_dropout"]
        return ids.masked_fill(drop, UNKNOWN_INDEX)

    def _drop_rows(self, bags: Tensor) -> Tensor:
        """Empties whole bags at the id-dropout rate: the no-history path must be trained too."""
        if not self.training or self.hparams["id_dropout"] <= 0:
            return bags
        drop = torch.rand(len(bags), device=bags.device) < self.hparams["id_dropout"]
        return bags.masked_fill(drop.unsqueeze(1), UNKNOWN_INDEX)

    def in_batch_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Weighted softmax of each row's item against the batch's other distinct items.

        Items are de-duplicated before the item tower runs, so a popular item appearing in several
        rows is one column: it is never a negative for a row where it is the positive (no
        "accidental hits"), and the tower does less work.
        """
        unique_items, column = torch.unique(batch["item_idx"], return_inverse=True)
        rows = torch.arange(len(column), device=column.device)
        first = torch.full_like(unique_items, len(column)).scatter_reduce(0, column, rows, reduce="amin")
        users = {k: batch[k] for k in (*USER_KEYS, RECENT_KEY) if k in batch}
        items = {k: batch[k].index_select(0, first) for k in ITEM_KEYS}
        users["user_idx"] = self._drop_ids(users["user_idx"])
        if RECENT_KEY in users:
            users[RECENT_KEY] = self._drop_rows(users[RECENT_KEY])
        items["item_idx"] = self._drop_ids(items["item_idx"])
        logits = self.encode_users(users) @ self.encode_items(items).T / self.hparams["temperature"]
        if self.hparams["logq_correction"]:
            # Popular items show up as negatives more often than uniform sampling would; subtracting
            # log q removes that bias so the model does not learn to bury popular items.
            logits = logits - batch["log_q"].index_select(0, first).unsqueeze(0)
        per_row = F.cross_entropy(logits, column, reduction="none")
        weight = batch["weight"]
        return (per_row * weight).sum() / weight.sum().clamp_min(1e-8)

    def _common_step(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        loss = self.in_batch_loss(batch)
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=len(batch["weight"]))
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._common_step(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._common_step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"]
        )

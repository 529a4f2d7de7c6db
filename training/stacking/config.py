"""Stacked-recommender defaults in one place: sources, candidate count, the ranker's size and schedule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class StackingConfig:
    """Sources are recommender names (``training.recommenders.BASELINES`` keys or ``two_tower``)."""

    sources: tuple[str, ...] = ("ease", "itemknn", "als", "popularity", "two_tower")
    n_candidates: int = 300  # union size per user: the items of best rank in any source
    user_batch: int = 1024  # users whose dense source scores are held at once
    # Listwise ranker (a LightningModule): per-candidate MLP, softmax over each user's candidates.
    hidden_dims: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_users: int = 32
    max_epochs: int = 30
    patience: int = 5  # epochs without a better val_loss before a ranker stops (its best epoch is kept)
    val_fraction: float = 0.1  # validation users held out of ranker training, for its val_loss
    n_rankers: int = 5  # bagged rankers (seeds seed, seed+1, ...), scores averaged
    replay_folds: int = 0  # extra (train part -> held-out part) replays of train the ranker learns from
    seed: int = 7
    torch_threads: int | None = 1  # a tiny MLP: one thread is faster, far faster on a busy machine

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

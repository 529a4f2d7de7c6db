"""Every training default in one place, as frozen dataclasses.

Orchestration passes overrides with ``dataclasses.replace``; nothing else in ``training`` hard-codes
a hyperparameter, so a run is fully described by its config objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RetrievalConfig:
    """Two-tower model: sizes chosen so the demo world trains in well under two minutes on 2 CPUs."""

    embedding_dim: int = 64
    hidden_dim: int = 128
    side_dim: int = 16  # embedding size of each categorical side feature
    title_dim: int = 32
    title_hash_buckets: int = 2**14
    max_title_tokens: int = 8
    price_buckets: int = 16  # log-scale buckets between min_price and max_price, +1 for NaN
    min_price: float = 1.0
    max_price: float = 10_000.0
    temperature: float = 0.05
    logq_correction: bool = True
    id_dropout: float = 0.25  # share of rows whose id embedding is replaced by "unknown" (cold start)
    max_pair_weight: float = 5.0  # cap on summed event weights of one (user, item) pair
    batch_size: int = 2048
    lr: float = 3e-3
    weight_decay: float = 0.0
    max_epochs: int = 8  # more overfits the demo world (Recall@20 drops after ~8 epochs)
    min_steps: int = 100  # small worlds train more epochs so they learn something at all
    max_steps: int = 1_000
    val_fraction: float = 0.05
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RankerConfig:
    """Multi-surface ranker: a shared MLP base plus one small head per surface."""

    hidden_dims: tuple[int, ...] = (128, 64)
    head_dim: int = 32
    dropout: float = 0.1
    batch_size: int = 4096
    lr: float = 2e-3
    weight_decay: float = 1e-5
    max_epochs: int = 4
    max_steps: int = 2_000
    val_fraction: float = 0.1
    seed: int = 7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndexConfig:
    """Exact search while it is cheap; HNSW once the catalogue makes brute force too slow."""

    exact_max_items: int = 200_000
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

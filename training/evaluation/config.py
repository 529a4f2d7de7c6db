"""Offline-evaluation defaults in one place: protocol fractions, metric cut-offs, slices, grids.

Cold slices (documented in the README): a *cold user* has at most ``cold_user_max_train`` training
interactions; a *cold item* has at most ``cold_item_max_train``. The cold-user slice scores those
users' full lists; the cold-item slice scores every user's list against only their cold test items.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _fractions() -> dict[str, float]:
    return {"stratified": 0.25, "random": 0.20, "temporal": 0.20, "label_window": 0.20}


@dataclass(frozen=True)
class ProtocolConfig:
    """Share held out for test (and, by the same rule, for validation out of train)."""

    test_fraction: dict[str, float] = field(default_factory=_fractions)


@dataclass(frozen=True)
class MetricConfig:
    ks: tuple[int, ...] = (10, 20)
    mrr_k: int = 10
    beyond_k: int = 10  # cut-off for diversity, novelty and the popularity-bias deciles
    plot_ks: tuple[int, ...] = (1, 5, 10, 20, 50)
    cold_user_max_train: int = 20
    cold_item_max_train: int = 5
    popularity_bins: int = 10
    user_batch: int = 2048  # users scored at once: bounds the dense score matrix


def _grids() -> dict[str, dict[str, list[Any]]]:
    return {
        "popularity": {},
        "itemknn": {"neighbours": [50, 100, 200, 400, 800, 1600], "shrink": [0.0, 10.0, 50.0, 200.0]},
        "ease": {"l2": [50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0, 2000.0]},
        "als": {
            "factors": [16, 32, 64, 128, 256],
            "regularization": [1.0, 10.0, 30.0, 100.0],
            "alpha": [1.0, 5.0, 15.0],
            "iterations": [15],
        },
    }


def _bounds() -> dict[str, tuple[float, float]]:
    """How far an axis may be extended past its grid (cost caps: factors, neighbours)."""
    return {
        "neighbours": (5, 3200),
        "shrink": (0.0, 5000.0),
        "l2": (1.0, 1e5),
        "factors": (4, 512),
        "regularization": (1e-3, 1e4),
        "alpha": (0.05, 500.0),
    }


@dataclass(frozen=True)
class TuningConfig:
    """Each baseline's grid, searched on the validation split (fit on val_train, scored on val).

    An optimum on the edge of a numeric axis means the grid was too narrow, so the search steps
    past that edge (same ratio as the last two values, the other parameters at their best) up to
    ``edge_steps`` times per side, within ``bounds``, until the optimum is interior.
    """

    grids: dict[str, dict[str, list[Any]]] = field(default_factory=_grids)
    metric: str = "ndcg@10"
    max_val_users: int | None = None  # subsample of validation users for speed (None: all)
    edge_steps: int = 3
    bounds: dict[str, tuple[float, float]] = field(default_factory=_bounds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

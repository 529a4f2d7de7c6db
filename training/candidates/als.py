"""ALS factors as a served source: item factors in FAISS, a user's vector folded in per request.

Implicit ALS (Hu, Koren, Volinsky 2008; the ``implicit`` package) is the strongest baseline on
time-ordered splits of real data, and unlike EASE it scales with the catalogue (factors x items).
Serving never stores user factors: each request solves the user's least-squares step from their
latest engagements against the fixed item factors (the fold-in), so an event ingested a second
ago already moves the vector, and a user unseen at training time is served from their history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from contracts.trust import event_trust
from training.config import ALSConfig, IndexConfig
from training.index.faiss_index import ItemIndex
from training.recommenders.als import ALSRecommender

ALS_DIR = "als"
FACTORS_FILE = "item_factors.npy"
META_FILE = "als.json"


class ALSFactors:
    """Item factors, their Gram matrix and a FAISS inner-product index over them."""

    def __init__(self, item_ids: np.ndarray, factors: np.ndarray, config: ALSConfig) -> None:
        self.item_ids = np.asarray(item_ids, dtype=object)
        self.factors = np.ascontiguousarray(factors, dtype=np.float32)
        self.config = config
        self.gram = (self.factors.T @ self.factors).astype(np.float64)
        self._position = pd.Index(self.item_ids)
        self.index = ItemIndex.build(self.item_ids.tolist(), self.factors, IndexConfig())

    def __len__(self) -> int:
        return len(self.item_ids)

    def user_vector(self, history: Sequence[str]) -> np.ndarray | None:
        """The fold-in: argmin_x sum_i c_i (p_i - x.y_i)^2 + reg |x|^2 over all items, with
        p_i = 1, c_i = alpha for the history and p_i = 0, c_i = 1 elsewhere (``implicit``'s own
        convention: it scales the binary matrix by alpha)."""
        found = self._position.get_indexer(list(dict.fromkeys(history))[: self.config.max_seeds])
        rows = self.factors[found[found >= 0]].astype(np.float64)
        if not len(rows):
            return None
        alpha, reg = self.config.alpha, self.config.regularization
        a = self.gram + (alpha - 1.0) * rows.T @ rows + reg * np.eye(self.factors.shape[1])
        b = alpha * rows.sum(axis=0)
        return np.linalg.solve(a, b).astype(np.float32)

    def top(self, history: Sequence[str], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """The ``k`` items of best predicted preference, history and ``exclude`` left out."""
        vector = self.user_vector(history)
        if vector is None or k <= 0:
            return []
        skip = {*history, *exclude}
        ids, _ = self.index.search(vector[None, :], k + min(len(skip), self.config.max_seeds * 2))
        return [item for item in ids[0] if item not in skip][:k]

    def scores_of(self, history: Sequence[str], candidates: Sequence[str]) -> np.ndarray:
        """Predicted preference of each candidate (0 without a history or for an unknown item)."""
        vector = self.user_vector(history)
        found = self._position.get_indexer(list(candidates))
        out = np.zeros(len(candidates), dtype=np.float64)
        if vector is not None:
            known = found >= 0
            out[known] = self.factors[found[known]] @ vector
        return out

    def save(self, directory: str | Path) -> Path:
        out = Path(directory) / ALS_DIR
        out.mkdir(parents=True, exist_ok=True)
        np.save(out / FACTORS_FILE, self.factors)
        meta = {"item_ids": self.item_ids.astype(str).tolist(), "config": self.config.to_dict()}
        (out / META_FILE).write_text(json.dumps(meta))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> ALSFactors:
        src = Path(directory)
        meta = json.loads((src / META_FILE).read_text())
        return cls(
            np.asarray(meta["item_ids"], dtype=object),
            np.load(src / FACTORS_FILE),
            ALSConfig(**meta["config"]),
        )


def fit_als(positives: pd.DataFrame, config: ALSConfig | None = None) -> ALSFactors:
    """Fit on engagements (``user_id, item_id`` rows; each pair counts once, with its trust weight:
    a confidence of ``1 + alpha * trust``, so a low-trust account's pairs barely pull the factors)."""
    config = config or ALSConfig()
    pairs = positives[["user_id", "item_id"]].astype(str).assign(trust=event_trust(positives))
    pairs = pairs.groupby(["user_id", "item_id"], sort=False, as_index=False)["trust"].max()
    users = pd.factorize(pairs["user_id"])[0]
    items, codes = np.unique(pairs["item_id"].to_numpy(), return_inverse=True)
    shape = (int(users.max()) + 1 if len(users) else 0, len(items))
    values = pairs["trust"].to_numpy(np.float32)
    matrix = sp.csr_matrix((values, (users, codes)), shape=shape)
    model = ALSRecommender(
        config.factors, config.regularization, config.alpha, config.iterations, seed=config.seed,
        exact=True,  # the fold-in then solves exactly what a training step solves
    ).fit(matrix)  # fmt: skip
    return ALSFactors(items.astype(object), model.item_factors, config)

"""EASE (Steck, WWW 2019) as a served source: its item x item weights, pruned to sparse lists.

Fitted on the ``max_items`` most-engaged items (one dense inverse, capped), then each item keeps
its strongest weights by magnitude (``neighbour_lists``): a request scores the catalogue from the
user's latest engagements exactly as item kNN does, so EASE serves in bounded memory and time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from training.candidates.item_knn import user_item_matrix
from training.candidates.neighbour_lists import NeighbourLists, top_of_dense
from training.config import EASEConfig
from training.recommenders.ease import ease_weights

EASE_FILE = "ease.npz"


class EASENeighbours(NeighbourLists):
    FILE = EASE_FILE


def ease_neighbours(positives: pd.DataFrame, config: EASEConfig | None = None) -> EASENeighbours:
    """Fit on engagements (``user_id, item_id, timestamp`` rows); items beyond the cap get none."""
    config = config or EASEConfig()
    items, matrix = user_item_matrix(positives, config.max_user_items)
    counts = np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel()  # trust-weighted engagements
    kept = np.sort(np.argsort(-counts, kind="stable")[: config.max_items])
    if len(kept) < 2:
        return EASENeighbours(items[kept], sp.csr_matrix((len(kept), len(kept)), dtype=np.float32), 0)
    l2 = config.l2_per_mean_count * float(counts[kept].mean())
    weights = ease_weights(matrix[:, kept].tocsr(), l2)
    lists = top_of_dense(weights, config.neighbours)  # block-wise: no sparse copy of all items^2 weights
    return EASENeighbours(items[kept], lists, config.max_seeds)

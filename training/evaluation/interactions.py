"""Implicit feedback as integer (user, item, time) triples over a fixed id layout.

Every protocol, baseline and the funnel work on these positions, so a split is three index arrays
and a model's output is a score matrix whose columns are the same items for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from contracts.schemas import POSITIVE_EVENT_WEIGHTS, UNKNOWN


@dataclass(frozen=True)
class Interactions:
    """Unique (user, item) pairs; ``timestamp`` is the pair's first positive event (unix seconds)."""

    user_ids: np.ndarray  # object [n_users]
    item_ids: np.ndarray  # object [n_items]
    users: np.ndarray  # int64 [n], positions into user_ids
    items: np.ndarray  # int64 [n], positions into item_ids
    timestamp: np.ndarray  # float64 [n]
    item_category: np.ndarray  # int64 [n_items], category code per item (for diversity and affinity)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, rows: np.ndarray) -> Interactions:
        """The same id layout with only ``rows`` (a boolean mask or positions) of the pairs."""
        return Interactions(
            self.user_ids, self.item_ids, self.users[rows], self.items[rows], self.timestamp[rows],
            self.item_category,
        )  # fmt: skip

    def matrix(self) -> sp.csr_matrix:
        """Binary user x item CSR matrix (float32), the input every recommender fits on."""
        data = np.ones(len(self.users), dtype=np.float32)
        shape = (self.n_users, self.n_items)
        matrix = sp.csr_matrix((data, (self.users, self.items)), shape=shape, dtype=np.float32)
        matrix.data[:] = 1.0  # duplicates (none by construction) would otherwise sum
        return matrix

    def time_matrix(self) -> sp.csr_matrix:
        """User x item CSR of each pair's timestamp (float64), for models that read recency."""
        shape = (self.n_users, self.n_items)
        return sp.csr_matrix((self.timestamp, (self.users, self.items)), shape=shape, dtype=np.float64)


def from_events(events: pd.DataFrame, items: pd.DataFrame | None = None) -> Interactions:
    """Positive events of a world -> unique pairs; every positive event counts as one interaction.

    ``items`` (the catalogue) supplies categories; items absent from it get ``unknown``. Only users
    and items with at least one positive event are laid out: the rest cannot be evaluated.
    """
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    micros = pd.to_datetime(positive["timestamp"], utc=True).to_numpy("datetime64[us]").astype(np.int64)
    frame = pd.DataFrame(
        {
            "user": positive["user_id"].astype(str).to_numpy(),
            "item": positive["item_id"].astype(str).to_numpy(),
            "ts": micros / 1e6,
        }
    )
    first = frame.groupby(["user", "item"], sort=False)["ts"].min().reset_index()
    user_ids, users = np.unique(first["user"].to_numpy(object), return_inverse=True)
    item_ids, items_pos = np.unique(first["item"].to_numpy(object), return_inverse=True)
    category = pd.Series(UNKNOWN, index=item_ids, dtype=object)
    if items is not None and "category" in items:
        known = items.drop_duplicates("item_id", keep="last")
        ids = known["item_id"].astype(str).to_numpy(object)
        mapped = pd.Series(known["category"].astype(str).to_numpy(object), index=ids)
        category = mapped.reindex(item_ids).fillna(UNKNOWN)
    codes = pd.factorize(category.to_numpy(object), sort=True)[0].astype(np.int64)
    return Interactions(
        user_ids.astype(object), item_ids.astype(object), users.astype(np.int64), items_pos.astype(np.int64),
        first["ts"].to_numpy(np.float64), codes,
    )  # fmt: skip


def restrict(data: Interactions, max_users: int | None, max_items: int | None, seed: int) -> Interactions:
    """Keep the ``max_items`` most-interacted items, then a seeded sample of ``max_users`` users.

    Why: EASE and ItemKNN need a dense item x item matrix, so large worlds are cut to a catalogue they
    fit; every model, ours included, is then evaluated on exactly this restricted data.
    """
    keep = np.ones(len(data), dtype=bool)
    if max_items is not None and data.n_items > max_items:
        counts = np.bincount(data.items, minlength=data.n_items)
        top = np.argsort(-counts, kind="stable")[:max_items]
        keep &= np.isin(data.items, top)
    if max_users is not None:
        present = np.unique(data.users[keep])
        if len(present) > max_users:
            chosen = np.random.default_rng(seed).choice(present, size=max_users, replace=False)
            keep &= np.isin(data.users, chosen)
    return _relabel(data.subset(keep))


def _relabel(data: Interactions) -> Interactions:
    """Drop users and items left without pairs, so every row and column can be evaluated."""
    user_keep, users = np.unique(data.users, return_inverse=True)
    item_keep, items = np.unique(data.items, return_inverse=True)
    return Interactions(
        data.user_ids[user_keep], data.item_ids[item_keep], users.astype(np.int64), items.astype(np.int64),
        data.timestamp, data.item_category[item_keep],
    )  # fmt: skip

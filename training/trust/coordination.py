"""Co-ordinated accounts: how many accounts engaged with a near-identical set of items.

A farm drives one item (and a few cover items) from many fresh accounts, so their item sets
coincide where real people's do not. Comparing every pair of accounts is quadratic; MinHash bands
(``bands`` x ``rows_per_band`` hashes) put accounts with similar sets in a shared bucket, and only
buckets of at least ``min_accounts`` are compared exactly (Jaccard on the sets), so a chance
collision never counts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from training.trust.behaviour import POSITIVE
from training.trust.config import CoordinationConfig

_PRIME = np.int64(2_147_483_647)  # 2^31 - 1: products of two values below it fit in int64


def _item_sets(events: pd.DataFrame, config: CoordinationConfig) -> tuple[np.ndarray, sp.csr_matrix]:
    """Users whose distinct engaged items number ``min_items``..``max_items``, and their binary
    user x item matrix."""
    positive = events.loc[events["event_type"].isin(POSITIVE), ["user_id", "item_id"]].astype(str)
    pairs = positive.drop_duplicates()
    sizes = pairs.groupby("user_id").size()
    eligible = sizes[(sizes >= config.min_items) & (sizes <= config.max_items)].index
    pairs = pairs[pairs["user_id"].isin(eligible)]
    users, rows = np.unique(pairs["user_id"].to_numpy(), return_inverse=True)
    _, cols = np.unique(pairs["item_id"].to_numpy(), return_inverse=True)
    shape = (len(users), int(cols.max()) + 1 if len(cols) else 0)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    return users, matrix


def _signatures(matrix: sp.csr_matrix, n_hashes: int, seed: int) -> np.ndarray:
    """MinHash of each row's column set: [users, n_hashes]."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _PRIME, size=n_hashes, dtype=np.int64)
    b = rng.integers(0, _PRIME, size=n_hashes, dtype=np.int64)
    columns = matrix.indices.astype(np.int64)
    out = np.empty((matrix.shape[0], n_hashes), dtype=np.int64)
    for j in range(n_hashes):  # one hash at a time: memory of one column of the pairs
        if matrix.shape[0]:
            out[:, j] = np.minimum.reduceat((columns * a[j] + b[j]) % _PRIME, matrix.indptr[:-1])
    return out


def _confirmed(members: np.ndarray, matrix: sp.csr_matrix, config: CoordinationConfig) -> np.ndarray:
    """For each member, how many members (itself included) share a set with Jaccard >= threshold;
    a bucket above ``max_bucket`` is compared against a seeded sample, the count scaled up."""
    others = members
    if len(members) > config.max_bucket:
        rng = np.random.default_rng(config.seed)
        others = rng.choice(members, size=config.max_bucket, replace=False)
    sets, reference = matrix[members], matrix[others]
    sizes = np.asarray(sets.sum(axis=1)).ravel()
    ref_sizes = np.asarray(reference.sum(axis=1)).ravel()
    shared = (sets @ reference.T).toarray()
    jaccard = shared / (sizes[:, None] + ref_sizes[None, :] - shared)
    close = (jaccard >= config.jaccard).sum(axis=1).astype(np.float64)
    return np.rint(close * len(members) / len(others)).astype(np.int64)


def group_sizes(events: pd.DataFrame, config: CoordinationConfig) -> pd.Series:
    """Per user with a comparable item set: the size of the largest group of accounts with a
    near-identical set (1: alone). Users not compared are absent."""
    users, matrix = _item_sets(events, config)
    sizes = np.ones(len(users), dtype=np.int64)
    if len(users) < config.min_accounts:
        return pd.Series(sizes, index=users)
    rows = config.rows_per_band
    signature = _signatures(matrix, config.bands * rows, config.seed)
    for band in range(config.bands):
        keys = pd.DataFrame(signature[:, band * rows : (band + 1) * rows])
        bucket = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
        groups = pd.Series(np.arange(len(users))).groupby(bucket).indices
        for members in groups.values():
            if len(members) < config.min_accounts:
                continue
            sizes[members] = np.maximum(sizes[members], _confirmed(members, matrix, config))
    return pd.Series(sizes, index=users)

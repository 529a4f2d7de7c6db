"""A block-structured toy world: users of group g mostly interact with items of group g.

Any model that learns co-occurrence beats random on it, and its categories (= groups) make
diversity measurable. Built directly as ``Interactions`` so no framework is involved.
"""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation.interactions import Interactions


def block_interactions(
    n_users: int = 120,
    n_items: int = 80,
    n_groups: int = 4,
    p_in: float = 0.4,
    p_out: float = 0.02,
    seed: int = 0,
) -> Interactions:
    rng = np.random.default_rng(seed)
    user_group = np.arange(n_users) % n_groups
    item_group = np.arange(n_items) % n_groups
    same = user_group[:, None] == item_group[None, :]
    # Popular items within a group are more likely, so popularity is a real (weaker) signal too.
    item_weight = np.linspace(1.5, 0.5, n_items)[None, :]
    p = np.where(same, p_in, p_out) * item_weight
    users, items = np.nonzero(rng.random((n_users, n_items)) < np.clip(p, 0, 1))
    return Interactions(
        user_ids=np.array([f"u{i}" for i in range(n_users)], dtype=object),
        item_ids=np.array([f"i{i}" for i in range(n_items)], dtype=object),
        users=users.astype(np.int64),
        items=items.astype(np.int64),
        timestamp=rng.uniform(0, 1e6, len(users)),
        item_category=item_group.astype(np.int64),
    )


@pytest.fixture(scope="session")
def blocks() -> Interactions:
    return block_interactions()

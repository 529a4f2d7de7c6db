"""Multi-source candidate generation: the union of every source's best unseen items, with features.

Each source ranks the whole catalogue for a user; the candidates are the ``n_candidates`` items with
the best rank in *any* source (round-robin union), ties broken by their mean rank. Every source's
score is then known for every candidate, not only for the ones it retrieved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from training.recommenders.base import Recommender, mask_seen
from training.stacking.features import FeatureContext, ranks, standardised


@dataclass
class CandidateSet:
    users: np.ndarray  # [n] user positions
    items: np.ndarray  # [n, C] item positions, -1 where a user has fewer unseen items than C
    features: np.ndarray  # [n, C, F] float32
    retrieved_by: dict[str, float]  # share of candidates each source has within its top C

    @property
    def valid(self) -> np.ndarray:
        return self.items >= 0

    def concat(self, other: CandidateSet) -> CandidateSet:
        """Both sets' lists stacked (e.g. two replays); ``retrieved_by`` stays this set's."""
        return CandidateSet(
            np.concatenate([self.users, other.users]), np.concatenate([self.items, other.items]),
            np.concatenate([self.features, other.features]), self.retrieved_by,
        )  # fmt: skip

    def labels(self, relevant: sp.csr_matrix) -> np.ndarray:
        """float32 [n, C]: 1 where the candidate is in the user's row of ``relevant``."""
        rows = relevant[self.users]
        out = np.zeros(self.items.shape, dtype=np.float32)
        for r in range(len(self.users)):
            found = rows.indices[rows.indptr[r] : rows.indptr[r + 1]]
            out[r] = np.isin(self.items[r], found) & (self.items[r] >= 0)
        return out


def _batch(
    sources: Mapping[str, Recommender],
    seen: sp.csr_matrix,
    users: np.ndarray,
    n_candidates: int,
    context: FeatureContext,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    per_source = []
    for model in sources.values():
        raw = mask_seen(np.asarray(model.scores(users), dtype=np.float64), seen, users)
        per_source.append((standardised(raw), ranks(raw)))
    rank_stack = np.stack([r for _, r in per_source])  # [S, b, n_items]
    blocked = ~np.isfinite(per_source[0][0])
    key = rank_stack.min(axis=0) + rank_stack.mean(axis=0) / (rank_stack.shape[2] + 1.0)
    key[blocked] = np.inf
    c = min(n_candidates, key.shape[1])
    items = np.argpartition(key, c - 1, axis=1)[:, :c]
    items = np.take_along_axis(items, np.argsort(np.take_along_axis(key, items, axis=1), axis=1), axis=1)
    items[~np.isfinite(np.take_along_axis(key, items, axis=1))] = -1
    safe = np.maximum(items, 0)
    columns = []
    for z, rank in per_source:
        cand_z = np.take_along_axis(z, safe, axis=1)
        columns += [
            np.where(np.isfinite(cand_z), cand_z, 0.0),
            np.log1p(np.take_along_axis(rank, safe, axis=1)),
        ]
    source_part = np.stack(columns, axis=-1).astype(np.float32)
    features = np.concatenate([source_part, context.features(users, items)], axis=-1)
    features[items < 0] = 0.0
    hit = np.take_along_axis(rank_stack, np.broadcast_to(safe, (len(per_source), *safe.shape)), axis=2) < c
    return items, features, (hit & (items >= 0)).sum(axis=(1, 2))


def build_candidates(
    sources: Mapping[str, Recommender],
    seen: sp.csr_matrix,
    users: np.ndarray,
    n_candidates: int,
    context: FeatureContext,
    user_batch: int,
) -> CandidateSet:
    """Candidates and their features for ``users``, excluding each user's items in ``seen``."""
    if not sources:
        raise ValueError("the stacked recommender needs at least one source")
    items, features, hits = [], [], []
    for start in range(0, len(users), user_batch):
        batch = users[start : start + user_batch]
        i, f, h = _batch(sources, seen, batch, n_candidates, context)
        items.append(i)
        features.append(f)
        hits.append(h)
    all_items = np.vstack(items)
    n_valid = max(int((all_items >= 0).sum()), 1)
    share = np.sum(hits, axis=0) / n_valid
    return CandidateSet(
        users=users,
        items=all_items,
        features=np.concatenate(features, axis=0),
        retrieved_by={name: round(float(s), 4) for name, s in zip(sources, share, strict=True)},
    )

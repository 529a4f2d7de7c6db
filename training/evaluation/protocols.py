"""The three offline protocols, each carving its validation split out of train the same way.

Pure functions of (interactions, seed): the same seed gives the same split. A split is a set of
row masks over one ``Interactions``; ``val_train``/``val`` partition ``train`` and never touch test.

* ``stratified``: per user, a random 25% of their interactions is test (as in published ml-100k
  tables, every interaction counts as implicit feedback).
* ``random``: a global random 20% of all interactions is test (some users may end up cold).
* ``temporal``: per user, the last 20% of their interactions by time is test.
* ``label_window``: the global last 20% of interactions by time is test, as the platform's own
  label window splits its history (users active only before it have nothing to score; users
  new in it are cold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from training.evaluation.config import ProtocolConfig
from training.evaluation.interactions import Interactions

PROTOCOLS = ("stratified", "random", "temporal", "label_window")


@dataclass(frozen=True)
class Split:
    """Row masks over ``data``: train = val_train + val (disjoint), test disjoint from train."""

    protocol: str
    data: Interactions
    train: np.ndarray
    test: np.ndarray
    val_train: np.ndarray
    val: np.ndarray

    def part(self, name: str) -> Interactions:
        return self.data.subset(getattr(self, name))


def _per_user_tail(users: np.ndarray, order_key: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of each user's last ``round(n * fraction)`` rows by ``order_key`` (at least one row stays)."""
    order = np.lexsort((order_key, users))
    sorted_users = users[order]
    counts = np.bincount(users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(users)) - starts[sorted_users]
    n = counts[sorted_users]
    n_out = np.minimum(np.rint(n * fraction), n - 1)
    mask = np.zeros(len(users), dtype=bool)
    mask[order] = position >= n - n_out
    return mask


def stratified_holdout(data: Interactions, rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Per user, a random ``fraction`` of their rows among ``rows`` (positions) -> held-out mask."""
    key = np.random.default_rng(seed).random(len(rows))
    out = np.zeros(len(data), dtype=bool)
    out[rows] = _per_user_tail(data.users[rows], key, fraction)
    return out


def random_holdout(data: Interactions, rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A global random ``fraction`` of ``rows``, regardless of user."""
    n_out = round(len(rows) * fraction)
    chosen = np.random.default_rng(seed).choice(rows, size=n_out, replace=False)
    out = np.zeros(len(data), dtype=bool)
    out[chosen] = True
    return out


def temporal_holdout(data: Interactions, rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Per user, the latest ``fraction`` of their rows among ``rows``; ties broken by a seeded draw."""
    jitter = np.random.default_rng(seed).random(len(rows))
    key = data.timestamp[rows] + jitter * 1e-3  # sub-millisecond: never reorders distinct seconds
    out = np.zeros(len(data), dtype=bool)
    out[rows] = _per_user_tail(data.users[rows], key, fraction)
    return out


def label_window_holdout(data: Interactions, rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The latest ``fraction`` of ``rows`` by time over everyone (one global cut); ties by a seeded draw."""
    jitter = np.random.default_rng(seed).random(len(rows))
    order = np.argsort(data.timestamp[rows] + jitter * 1e-3, kind="stable")
    n_out = round(len(rows) * fraction)
    out = np.zeros(len(data), dtype=bool)
    out[rows[order[len(rows) - n_out :]]] = True
    return out


HOLDOUTS: dict[str, Callable[[Interactions, np.ndarray, float, int], np.ndarray]] = {
    "stratified": stratified_holdout,
    "random": random_holdout,
    "temporal": temporal_holdout,
    "label_window": label_window_holdout,
}


TIME_ORDERED = ("temporal", "label_window")  # protocols whose test lies after what trains


def split(data: Interactions, protocol: str, config: ProtocolConfig | None = None, seed: int = 0) -> Split:
    """Test split by ``protocol``, then the validation split by the same rule applied to train."""
    config = config or ProtocolConfig()
    if protocol not in HOLDOUTS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    holdout = HOLDOUTS[protocol]
    fraction = config.test_fraction[protocol]
    everything = np.arange(len(data))
    test = holdout(data, everything, fraction, seed)
    train = ~test
    val = holdout(data, np.flatnonzero(train), fraction, seed + 1)
    return Split(protocol, data, train, test, train & ~val, val)


def replays(
    s: Split, n: int, config: ProtocolConfig | None = None, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` more (train part, held-out part) row masks of train, by the protocol's own rule.

    For the funnel's ranker: each is one more list per user to learn from, still inside train.
    Random protocols draw new held-out parts with new seeds; temporal steps back in time (the last
    share of what is left before the previous held-out part), as a replay of an earlier cut.
    """
    config = config or ProtocolConfig()
    holdout = HOLDOUTS[s.protocol]
    fraction = config.test_fraction[s.protocol]
    out = []
    rows = s.val_train
    for k in range(n):
        base = rows if s.protocol in TIME_ORDERED else s.train
        held = holdout(s.data, np.flatnonzero(base), fraction, seed + 2 + k)
        rows = base & ~held
        out.append((rows, held))
    return out

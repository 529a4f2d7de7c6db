"""Item-to-item neighbours from co-interaction: "people who engaged with this also engaged with".

Two items are related when one is engaged with within ``window`` distinct items after the other,
in a user's time-ordered history (``group_by="user"``, the default: in real logs most sessions
hold a single positive event) or within one session (``group_by="session"``). Raw co-counts
favour whatever is popular, so a pair's count is divided by ``(n(a) * n(b)) ** popularity_damping``
(0.5 is cosine similarity over groups). Every count is trust-weighted (``contracts.trust``): a pair
counts its group's trust, not 1, so a farm's pairs fall below ``min_count``. Computed in batch,
vectorised over all events; serving only looks lists up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.trust import event_trust
from training.config import CoInteractionConfig

NEIGHBOURS_FILE = "co_interaction.parquet"


def _sessions(events: pd.DataFrame, config: CoInteractionConfig) -> pd.DataFrame:
    """Positive events as (group, item) in time order, each item once per group (its first time)."""
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    session = positive["user_id"].astype(str)
    if config.group_by == "session" and "session_id" in positive:
        sid = positive["session_id"]
        has = sid.notna() & (sid.astype(str) != "")
        session = session.where(~has, "s:" + sid.astype(str))  # no session id: the user's history
    frame = pd.DataFrame(
        {
            "session": session.to_numpy(),
            "item_id": positive["item_id"].astype(str).to_numpy(),
            "timestamp": positive["timestamp"].to_numpy(),
            "trust": event_trust(positive),
        }
    )
    frame = frame.sort_values(["session", "timestamp"], kind="stable")
    frame = frame.drop_duplicates(["session", "item_id"], keep="first")
    latest_first = frame.groupby("session", sort=False).cumcount(ascending=False)
    return frame[latest_first < config.max_group_items].reset_index(drop=True)


def co_interaction_neighbours(
    events: pd.DataFrame, config: CoInteractionConfig | None = None
) -> pd.DataFrame:
    """Top neighbours per item: ``item_id, neighbour_id, score, count, rank`` (rank 0 is best)."""
    config = config or CoInteractionConfig()
    frame = _sessions(events, config)
    columns = {"item_id": str, "neighbour_id": str, "score": float, "count": float, "rank": int}
    if frame.empty:
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})
    items, item_codes = np.unique(frame["item_id"].to_numpy(), return_inverse=True)
    sessions = pd.factorize(frame["session"])[0]
    n_items = np.int64(len(items))
    trust = frame["trust"].to_numpy(np.float64)
    keys, weights = [], []
    for offset in range(1, config.window + 1):
        same = sessions[offset:] == sessions[:-offset]
        a, b = item_codes[:-offset][same], item_codes[offset:][same]
        keys += [a * n_items + b, b * n_items + a]  # both directions: the relation is symmetric
        pair_trust = np.minimum(trust[:-offset][same], trust[offset:][same])
        weights += [pair_trust, pair_trust]
    if not keys or not sum(len(k) for k in keys):
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})
    pair_keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate(weights), minlength=len(pair_keys))
    keep = counts >= config.min_count - 1e-9  # trust-weighted sums: tolerate float rounding
    pair_keys, counts = pair_keys[keep], counts[keep]
    a, b = pair_keys // n_items, pair_keys % n_items
    sessions_with = np.bincount(item_codes, weights=trust, minlength=len(items))
    score = counts / (sessions_with[a] * sessions_with[b]) ** config.popularity_damping
    pairs = pd.DataFrame({"a": a, "b": b, "score": score, "count": counts})
    pairs = pairs.sort_values(["a", "score", "b"], ascending=[True, False, True], kind="stable")
    pairs["rank"] = pairs.groupby("a").cumcount()
    pairs = pairs[pairs["rank"] < config.neighbours]
    return pd.DataFrame(
        {
            "item_id": items[pairs["a"].to_numpy()],
            "neighbour_id": items[pairs["b"].to_numpy()],
            "score": pairs["score"].to_numpy(),
            "count": pairs["count"].to_numpy(),
            "rank": pairs["rank"].to_numpy(),
        }
    ).reset_index(drop=True)


class CoInteractionNeighbours:
    """In-memory lookup of the precomputed lists: a dict read per request."""

    def __init__(self, table: pd.DataFrame, seed_decay: float = 0.9) -> None:
        self.seed_decay = seed_decay
        self._lists: dict[str, list[tuple[str, float]]] = {}
        ordered = table.sort_values(["item_id", "rank"], kind="stable")
        for item, group in ordered.groupby("item_id", sort=False):
            self._lists[str(item)] = list(
                zip(group["neighbour_id"], group["score"].astype(float), strict=True)
            )

    def __len__(self) -> int:
        return len(self._lists)

    def neighbours(self, item_id: str, k: int) -> list[str]:
        """Best ``k`` co-interacted items of one item (empty for an item nobody engaged with yet)."""
        return [n for n, _ in self._lists.get(item_id, [])[: max(k, 0)]]

    def for_items(self, seed_ids: Sequence[str], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """Merged neighbours of the user's recent items (most recent first), seeds excluded.

        A candidate keeps its best score over seeds, discounted by ``seed_decay`` per step back.
        """
        best = self.scores(seed_ids, exclude)
        return [item for item, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[: max(k, 0)]]

    def scores(self, seed_ids: Sequence[str], exclude: Iterable[str] = ()) -> dict[str, float]:
        """Every candidate the seeds reach, with its best seed-discounted score."""
        seeds = list(dict.fromkeys(seed_ids))
        skip = set(seeds) | set(exclude)
        best: dict[str, float] = {}
        for step, seed in enumerate(seeds):
            discount = self.seed_decay**step
            for item, score in self._lists.get(seed, []):
                if item not in skip:
                    best[item] = max(best.get(item, 0.0), score * discount)
        return best

    @classmethod
    def load(cls, path: str | Path, seed_decay: float = 0.9) -> CoInteractionNeighbours:
        return cls(pd.read_parquet(path), seed_decay)


def save_neighbours(table: pd.DataFrame, directory: str | Path) -> Path:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out / NEIGHBOURS_FILE, index=False)
    return out / NEIGHBOURS_FILE

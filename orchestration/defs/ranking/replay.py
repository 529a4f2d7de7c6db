"""The serving funnel replayed offline at the label cut: retrieval, features, ranker, top-K.

It uses the same pieces as the service (the bundle's retrieval sources, candidate merge, the
item-to-item cross scores, ``ranker_inputs``, the light first stage and the full ranker), so the
offline numbers describe what users would get, not a separate evaluation-only model. The ranker's
training set uses its retrieval half too (``ranking.pool``): the ranker learns to order the very
candidate lists it will be given. What it leaves out: the live session (there is none at the cut),
trending and editorial lists (computed as of the end, they would leak the label window) and the
re-ranking rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bento.funnel.candidates import affinity, fused_retrieval_score, merge_sources
from bento.sources import RetrievalSources
from bento.surfaces import SourceCounts, load_serving_config
from contracts.features import SESSION_DEFAULTS, ranker_inputs
from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.settings import PlatformSettings
from orchestration.defs.candidate_generation.assets import cut_candidates_dir
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.common.split import evaluation_users
from orchestration.defs.common.warehouse import read_table
from training.candidates.als import ALS_DIR, ALSFactors
from training.candidates.cross_scores import (
    ALS_SCORE,
    EASE_SCORE,
    HISTORY_ITEMS,
    ITEM_KNN_SCORE,
    SEED_ITEMS,
    latest_first,
    source_scores,
)
from training.candidates.ease import EASE_FILE, EASENeighbours
from training.candidates.item_knn import ITEM_KNN_FILE, ItemKNNNeighbours
from training.evaluation.metrics import evaluate_topk
from training.export import LoadedRanker, load_ranker
from training.index.faiss_index import ItemIndex
from training.light_ranker import WEIGHTS_FILE as LIGHT_WEIGHTS
from training.light_ranker import LightRanker, keep_top, load_light_ranker
from training.recommenders.threads import torch_threads
from training.retrieval import RetrievalArtifacts

EVAL_SURFACE = "home_feed"
RANKED = "ranked"  # candidates ordered by the light and full rankers
RETRIEVAL_ORDER = "retrieval_order"  # the same candidates in fused retrieval order, rankers off
PREFERENCE_HOLDOUT = "preference_holdout"  # the second held-out set (``split.hidden_preferences``)
DEFAULT_HOUR = 12


@dataclass
class OfflineFunnel:
    artifacts: RetrievalArtifacts
    index: ItemIndex
    ranker: LoadedRanker | None  # None: retrieval only (building the ranker's own training rows)
    user_stats: pd.DataFrame  # indexed by user_id, snapshot at the cut
    item_stats: pd.DataFrame  # indexed by item_id, snapshot at the cut
    profiles: pd.DataFrame  # indexed by user_id
    popular: list[str]
    seen: dict[str, set[str]]
    recent: dict[str, list[str]]  # each user's engagements before the cut, newest first
    now_ts: float
    counts: SourceCounts  # the evaluated surface's, exactly as serving reads them
    sources: RetrievalSources = field(default_factory=RetrievalSources)
    light: LightRanker | None = None
    full_rank: int = 0  # candidates the light stage passes on (0: the full ranker scores all)

    def __post_init__(self) -> None:
        self._user_pos = {u: i for i, u in enumerate(self.artifacts.user_ids)}
        self._item_pos = pd.Series(range(len(self.artifacts.item_ids)), index=self.artifacts.item_ids)

    def candidates(self, user: str) -> pd.DataFrame:
        seen = self.seen.get(user, set())
        pos = self._user_pos.get(user)
        sources: dict[str, list[str]] = {}
        if pos is not None:
            query = self.artifacts.user_embeddings[pos : pos + 1]
            ids, _ = self.index.search(query, self.counts.collaborative + len(seen))
            sources["collaborative"] = ids[0]
        history = self.recent.get(user, [])
        seeds = history[:SEED_ITEMS]
        if history and self.sources.item_knn is not None:
            sources["item_knn"] = self.sources.item_knn.top(history, self.counts.item_knn, seen)
        if history and self.sources.ease is not None:
            sources["ease"] = self.sources.ease.top(history, self.counts.ease, seen)
        if history and self.sources.als is not None:
            sources["als"] = self.sources.als.top(history, self.counts.als, seen)
        if seeds and self.sources.co_interaction is not None:
            sources["co_interaction"] = self.sources.co_interaction.for_items(
                seeds, self.counts.co_interaction, seen
            )
        if seeds and self.sources.content is not None:
            sources["content"] = self.sources.content.similar(seeds, self.counts.content, seen)
        sources["popular"] = self.popular[: self.counts.popular + len(seen)]
        merged = merge_sources(sources, excluded=seen)
        # The sources were built from today's catalogue; at the cut only older items existed.
        return merged[merged["item_id"].isin(self.item_stats.index)].reset_index(drop=True)

    def scored_candidates(self, user: str) -> pd.DataFrame:
        """The merged candidates with their two-tower ``retrieval_score`` (0 without embeddings)."""
        cands = self.candidates(user)
        positions = self._item_pos.reindex(cands["item_id"]).to_numpy()
        known = ~np.isnan(positions)
        vectors = np.zeros((len(cands), self.artifacts.item_embeddings.shape[1]), np.float32)
        vectors[known] = self.artifacts.item_embeddings[positions[known].astype(int)]
        pos = self._user_pos.get(user)
        query = self.artifacts.user_embeddings[pos] if pos is not None else None
        cands["retrieval_score"] = affinity(query, vectors, known)
        return cands

    def rank(self, user: str, k: int, use_ranker: bool = True) -> list[str]:
        cands = self.scored_candidates(user)
        if cands.empty:
            return []
        raw = self.raw_features(user, cands)
        ids = cands["item_id"].to_numpy()
        if not use_ranker or self.ranker is None:  # the order the funnel serves without its rankers
            fused = fused_retrieval_score(
                [raw[name].to_numpy() for name in ("retrieval_score", ITEM_KNN_SCORE, EASE_SCORE, ALS_SCORE)]
            )
            return ids[np.argsort(-fused, kind="stable")[:k]].tolist()
        inputs = ranker_inputs(raw)
        if self.light is not None and 0 < self.full_rank < len(cands):
            kept = keep_top(self.light.score(inputs, EVAL_SURFACE), self.full_rank)
            ids, inputs = ids[kept], inputs[kept]
        scores = self.ranker.score(inputs, EVAL_SURFACE)
        order = np.argsort(-scores, kind="stable")[:k]
        return ids[order].tolist()

    def raw_features(self, user: str, cands: pd.DataFrame) -> pd.DataFrame:
        raw = self.item_stats.reindex(cands["item_id"]).reset_index(drop=True)
        if user in self.user_stats.index:
            for name, value in self.user_stats.loc[user].items():
                raw[name] = [value] * len(raw)
        for name, value in SESSION_DEFAULTS.items():
            raw[name] = [value] * len(raw)
        raw["retrieval_score"] = cands["retrieval_score"].to_numpy()
        history = self.recent.get(user, [])
        for name, values in source_scores(self.sources.cross(), history, cands["item_id"].tolist()).items():
            raw[name] = values
        raw["now_ts"] = self.now_ts
        raw["hour_of_day"] = DEFAULT_HOUR
        raw["device"] = self.profiles["device"].get(user, "") if user in self.profiles.index else ""
        return raw


def label_window_positives(
    events: pd.DataFrame, cut: pd.Timestamp
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Positives before the cut (seen) and new positives after it (what the funnel should find)."""
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    before = positive[positive["timestamp"] < cut]
    after = positive[positive["timestamp"] >= cut]
    seen = before.groupby("user_id")["item_id"].agg(set).to_dict()
    fresh: dict[str, set[str]] = {}
    for user, items in after.groupby("user_id")["item_id"].agg(set).items():
        new = items - seen.get(user, set())
        if new:
            fresh[user] = new
    return seen, fresh


def _sources_at_cut(settings: PlatformSettings) -> RetrievalSources:
    """The bundle's sources, with the collaborative neighbours (item kNN, EASE) and ALS factors
    swapped for those fitted before the cut (the served ones learned from the label window)."""
    sources = RetrievalSources.load(staging(settings.paths).root)
    folder = cut_candidates_dir(settings.paths)
    knn, als, ease = folder / ITEM_KNN_FILE, folder / ALS_DIR, folder / EASE_FILE
    sources.item_knn = ItemKNNNeighbours.load(knn) if knn.exists() else None
    sources.ease = EASENeighbours.load(ease) if ease.exists() else None
    sources.als = ALSFactors.load(als) if als.exists() else None
    return sources


def recent_before(events: pd.DataFrame, cut: pd.Timestamp) -> dict[str, list[str]]:
    """Each user's engagements before the cut, newest first: the replay's item-to-item seeds."""
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    return latest_first(positive[positive["timestamp"] < cut], HISTORY_ITEMS)


def _snapshot(frame: pd.DataFrame, at: pd.Timestamp, key: str) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["event_timestamp"], utc=True)
    return frame[stamps == at].drop(columns="event_timestamp").set_index(key)


def load_replay(
    settings: PlatformSettings,
    cut: pd.Timestamp,
    seen: dict[str, set[str]],
    recent: dict[str, list[str]],
    with_ranker: bool,
) -> OfflineFunnel:
    """The staged bundle's funnel as of ``cut``; without the rankers when they are not trained yet."""
    paths = settings.paths
    area = staging(paths)
    item_stats = _snapshot(pd.read_parquet(paths.features / "item_stats.parquet"), cut, "item_id")
    in_stock = item_stats[item_stats["item_in_stock"]]
    user_stats = _snapshot(pd.read_parquet(paths.features / "user_stats.parquet"), cut, "user_id")
    activity = _snapshot(pd.read_parquet(paths.features / "user_activity.parquet"), cut, "user_id")
    light = with_ranker and (area.ranker / LIGHT_WEIGHTS).exists()
    surface = load_serving_config(settings.surfaces_file).surface(EVAL_SURFACE)
    return OfflineFunnel(
        artifacts=RetrievalArtifacts.load(area.retrieval),
        index=ItemIndex.load(area.index),
        ranker=load_ranker(area.ranker) if with_ranker else None,
        user_stats=user_stats.join(activity, how="outer"),
        item_stats=item_stats,
        profiles=read_table(paths, "users").set_index("user_id"),
        popular=in_stock.sort_values("item_popularity", ascending=False).index.tolist(),
        seen=seen,
        recent=recent,
        now_ts=cut.timestamp(),
        counts=surface.candidates,
        sources=_sources_at_cut(settings),
        light=load_light_ranker(area.ranker) if light else None,
        full_rank=surface.full_rank,
    )


def evaluation_sample(fresh: dict[str, set[str]], limit: int, seed: int) -> dict[str, set[str]]:
    """At most ``limit`` held-out users (never in ranker training) with their label-window items."""
    users = sorted(evaluation_users(fresh))
    if len(users) > limit:
        users = sorted(np.random.default_rng(seed).choice(users, size=limit, replace=False).tolist())
    return {u: fresh[u] for u in users}


def evaluate_replay(funnel: OfflineFunnel, test: dict[str, set[str]]) -> dict[str, dict[str, float]]:
    """The funnel with its rankers (``ranked``) against its own retrieval order and popularity, on
    the same candidates."""
    seen = funnel.seen

    def popularity(batch: list[str], n: int) -> list[list[str]]:
        return [
            [i for i in funnel.popular[: n + len(seen.get(u, ()))] if i not in seen.get(u, ())][:n]
            for u in batch
        ]

    models: dict[str, Callable[[list[str], int], list[list[str]]]] = {
        RANKED: lambda batch, n: [funnel.rank(u, n) for u in batch],
        RETRIEVAL_ORDER: lambda batch, n: [funnel.rank(u, n, use_ranker=False) for u in batch],
        "popularity": popularity,
    }
    with torch_threads(1):  # per-user batches are small: extra threads only contend
        return {name: evaluate_topk(fn, test, ks=RETRIEVAL.ks) for name, fn in models.items()}

"""The serving funnel replayed offline at the label cut: retrieval, features, ranker, top-K.

Retrieval is the service's own (``bento.funnel.retrieval.retrieve_candidates``: the same sources,
counts, cold-start mix, merge and candidate cap) over the staged bundle as it stood at the cut:
the cut's user vectors, collaborative neighbours and ALS factors fitted before the cut, and only
items that existed then. Features come from the batch snapshot at the cut through the service's
``request_inputs``;
the light first stage and the full ranker are the staged ones. The non-personal sources are
recomputed as of the cut from the events before it, by the functions their assets run: trending
(``trending_lists``), new arrivals and editorial pins (``editorial_lists``), the segment and global
popular lists (``fallback_lists``), so the candidate mix is the one serving hands the ranker. The
ranker's training rows (``ranking.pool``) come from the same retrieval, so it learns to order the
very candidate lists it will be given. What it leaves out: the live session (there is none at the
cut) and the re-ranking rules. The protocol evaluation (``evaluation.served``) runs the service's
whole ``Funnel`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bento.bundle import ServingBundle
from bento.funnel.cold_start import source_counts
from bento.funnel.fusion import load_fusion_weights
from bento.funnel.request_inputs import request_inputs
from bento.funnel.retrieval import RetrievalContext, retrieve_candidates
from bento.sources import RetrievalSources
from contracts.features import SESSION_DEFAULTS
from contracts.funnel_config import FunnelConfig, SurfaceConfig
from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.settings import PlatformSettings
from orchestration.defs.candidate_generation.assets import cut_candidates_dir
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.split import evaluation_users
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.serving.fallbacks import fallback_lists
from training.candidates.als import ALS_DIR, ALSFactors
from training.candidates.cross_scores import latest_first, recent_items
from training.candidates.ease import EASE_FILE, EASENeighbours
from training.candidates.editorial import EDITORIAL_FILE, editorial_lists, load_editorial
from training.candidates.item_knn import ITEM_KNN_FILE, ItemKNNNeighbours
from training.candidates.trending import trending_lists
from training.export import LoadedRanker, load_ranker
from training.index.faiss_index import ItemIndex
from training.light_ranker import WEIGHTS_FILE as LIGHT_WEIGHTS
from training.light_ranker import keep_top, load_light_ranker
from training.retrieval import RetrievalArtifacts

EVAL_SURFACE = "home_feed"
RANKED = "ranked"  # candidates ordered by the light and full rankers
RETRIEVAL_ORDER = "retrieval_order"  # the same candidates in fused retrieval order, rankers off
PREFERENCE_HOLDOUT = "preference_holdout"  # the second held-out set (``split.hidden_preferences``)
DEFAULT_HOUR = 12


@dataclass
class OfflineFunnel:
    bundle: ServingBundle  # the staged bundle as of the cut (``cut_bundle``); history = ``seen``
    ranker: LoadedRanker | None  # None: retrieval only (building the ranker's own training rows)
    user_stats: pd.DataFrame  # indexed by user_id, snapshot at the cut
    item_stats: pd.DataFrame  # indexed by item_id, snapshot at the cut
    profiles: pd.DataFrame  # indexed by user_id
    now_ts: float
    config: FunnelConfig  # the service's, exactly as it reads it

    @property
    def surface(self) -> SurfaceConfig:
        return self.config.surface(EVAL_SURFACE)

    @property
    def seen(self) -> dict[str, set[str]]:
        return self.bundle.history

    @property
    def popular(self) -> list[str]:
        return self.bundle.lists.get("popular", [])

    def candidates(self, user: str) -> pd.DataFrame:
        """The service's retrieval stage for ``user`` at the cut: ``item_id``, ``source``,
        ``retrieval_score``, the cross scores and ``fused_score``."""
        seen = self.seen.get(user, set())
        windows = self.config.history
        history = recent_items((), self.bundle.recent.get(user, []), windows.history_items)
        context = RetrievalContext(
            surface=EVAL_SURFACE,
            query=self.bundle.user_vector(user),
            session_items=(),
            recent_items=history[: windows.seed_items],
            history=history,
            categories=self._top_categories(user),
            segment=self._profile(user, "segment"),
        )
        configured = self.surface.candidates.model_dump()
        known = user in self.bundle.user_positions
        counts = source_counts(configured, len(seen), known, self.config.cold_start.ramp_interactions)
        excluded = seen | self.bundle.unavailable()
        return retrieve_candidates(
            self.bundle, context, counts, excluded, self.surface.max_candidates, windows
        )

    def _profile(self, user: str, column: str) -> str:
        if column not in self.profiles or user not in self.profiles.index:
            return ""
        value = self.profiles[column].get(user)
        return value if isinstance(value, str) else ""

    def _top_categories(self, user: str) -> list[str]:
        """The user's most active categories at the cut (what the service reads from Feast)."""
        if "user_top_categories" not in self.user_stats or user not in self.user_stats.index:
            return []
        value = self.user_stats["user_top_categories"].get(user)
        return [str(c) for c in value] if isinstance(value, list | np.ndarray) else []

    def rank(self, user: str, k: int, use_ranker: bool = True) -> list[str]:
        cands = self.candidates(user)
        if cands.empty:
            return []
        ids = cands["item_id"].to_numpy()
        if not use_ranker or self.ranker is None:  # the order the funnel serves without its rankers
            return ids[np.argsort(-cands["fused_score"].to_numpy(), kind="stable")[:k]].tolist()
        inputs = self.inputs(user, cands)
        light, full_rank = self.bundle.light_ranker, self.surface.full_rank
        if light is not None and 0 < full_rank < len(cands):
            kept = keep_top(light.score(inputs, EVAL_SURFACE), full_rank)
            ids, inputs = ids[kept], inputs[kept]
        scores = self.ranker.score(inputs, EVAL_SURFACE)
        order = np.argsort(-scores, kind="stable")[:k]
        return ids[order].tolist()

    def inputs(self, user: str, cands: pd.DataFrame) -> np.ndarray:
        """The service's ranker inputs, from the batch snapshot at the cut and no live session."""
        features = self.user_stats.loc[user].to_dict() if user in self.user_stats.index else {}
        device = self._profile(user, "device")
        items = self.item_stats.reindex(cands["item_id"])
        return request_inputs(
            items, {**features, **SESSION_DEFAULTS}, cands, self.now_ts, DEFAULT_HOUR, device
        )


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


def _sources_at_cut(
    settings: PlatformSettings, events: pd.DataFrame, items: pd.DataFrame, cut: pd.Timestamp
) -> RetrievalSources:
    """The bundle's sources as they stood at the cut: collaborative neighbours (item kNN, EASE)
    and ALS factors fitted before it, trending from the events before it, new arrivals and pins
    resolved against the catalogue that existed then (``items``)."""
    sources = RetrievalSources.load(staging(settings.paths).root)
    folder = cut_candidates_dir(settings.paths)
    knn, als, ease = folder / ITEM_KNN_FILE, folder / ALS_DIR, folder / EASE_FILE
    sources.item_knn = ItemKNNNeighbours.load(knn) if knn.exists() else None
    sources.ease = EASENeighbours.load(ease) if ease.exists() else None
    sources.als = ALSFactors.load(als) if als.exists() else None
    sources.trending = trending_lists(events, items, cut.to_pydatetime(warn=False))
    sources.live_trending_file = None  # the hourly refresh is of today, not of the cut
    sources.editorial, _ = editorial_lists(
        load_editorial(EDITORIAL_FILE), items, cut.to_pydatetime(warn=False)
    )
    return sources


def _snapshot(frame: pd.DataFrame, at: pd.Timestamp, key: str) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["event_timestamp"], utc=True)
    return frame[stamps == at].drop(columns="event_timestamp").set_index(key)


def cut_bundle(
    settings: PlatformSettings,
    events: pd.DataFrame,
    item_stats: pd.DataFrame,
    cut: pd.Timestamp,
    with_ranker: bool,
) -> ServingBundle:
    """The staged bundle as the service would hold it at the cut, from ``events`` before it: the
    cut's user vectors, the sources as of the cut, the fallback lists and availability then."""
    area = staging(settings.paths)
    paths = settings.paths
    artifacts = RetrievalArtifacts.load(area.retrieval)
    catalogue = read_table(paths, "items").set_index("item_id")
    existed = catalogue.index.isin(item_stats.index)
    not_yet = frozenset(catalogue.index[~existed])
    items_then = catalogue[existed].reset_index()
    before = events[pd.to_datetime(events["timestamp"], utc=True) < cut]
    lists = fallback_lists(
        before,
        items_then,
        read_table(paths, "users"),
        item_stats.reset_index(),
        settings.funnel().fallbacks,
    )
    positive = before[before["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    light = with_ranker and (area.ranker / LIGHT_WEIGHTS).exists()
    return ServingBundle(
        root=area.root,
        model_version="replay",
        features_as_of=cut.to_pydatetime(warn=False),
        user_positions={u: i for i, u in enumerate(artifacts.user_ids)},
        user_embeddings=artifacts.user_embeddings,
        item_positions=pd.Series(np.arange(len(artifacts.item_ids)), index=artifacts.item_ids),
        item_embeddings=artifacts.item_embeddings,
        index=ItemIndex.load(area.index),
        catalogue=catalogue,
        history=positive.groupby("user_id")["item_id"].agg(set).to_dict(),
        recent=latest_first(positive),
        lists={name: value for name, value in lists.items() if name != "segments"},
        segment_lists=lists["segments"],
        light_ranker=load_light_ranker(area.ranker) if light else None,
        sources=_sources_at_cut(settings, before, items_then, cut),
        # The trained funnel's retrieval order is the tuned one; the rows it is tuned on use none.
        fusion_weights=load_fusion_weights(area.root) if with_ranker else None,
        availability=lambda: not_yet,  # items created after the cut did not exist yet
    )


def load_replay(
    settings: PlatformSettings, cut: pd.Timestamp, events: pd.DataFrame, with_ranker: bool
) -> OfflineFunnel:
    """The staged bundle's funnel as of ``cut``, built from ``events`` before it (all of them, or
    the ones a held-out set leaves); without the rankers when they are not trained yet."""
    paths = settings.paths
    item_stats = _snapshot(pd.read_parquet(paths.features / "item_stats.parquet"), cut, "item_id")
    user_stats = _snapshot(pd.read_parquet(paths.features / "user_stats.parquet"), cut, "user_id")
    activity = _snapshot(pd.read_parquet(paths.features / "user_activity.parquet"), cut, "user_id")
    return OfflineFunnel(
        bundle=cut_bundle(settings, events, item_stats, cut, with_ranker),
        ranker=load_ranker(staging(paths).ranker) if with_ranker else None,
        user_stats=user_stats.join(activity, how="outer"),
        item_stats=item_stats,
        profiles=read_table(paths, "users").set_index("user_id"),
        now_ts=cut.timestamp(),
        config=settings.funnel(),
    )


def evaluation_sample(fresh: dict[str, set[str]], limit: int, seed: int) -> dict[str, set[str]]:
    """At most ``limit`` held-out users (never in ranker training) with their label-window items."""
    users = sorted(evaluation_users(fresh))
    if len(users) > limit:
        users = sorted(np.random.default_rng(seed).choice(users, size=limit, replace=False).tolist())
    return {u: fresh[u] for u in users}

"""The serving funnel replayed offline at the label cut: retrieval, features, ranker, top-K.

It uses the same pieces as the service (the bundle's retrieval sources, candidate merge, the
item-to-item cross scores, ``ranker_inputs``, the light first stage and the full ranker), so the
offline numbers describe what users would get, not a separate evaluation-only model. What it
leaves out: the live session (there is none at the cut), trending and editorial lists (computed
as of the end, they would leak the label window) and the re-ranking rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bento.funnel.candidates import affinity, merge_sources
from bento.sources import RetrievalSources
from contracts.features import SESSION_DEFAULTS, ranker_inputs
from training.candidates.cross_scores import recent_items, source_scores
from training.export import LoadedRanker
from training.index.faiss_index import ItemIndex
from training.light_ranker import LightRanker, keep_top
from training.retrieval import RetrievalArtifacts

EVAL_SURFACE = "home_feed"
DEFAULT_HOUR = 12


@dataclass
class OfflineFunnel:
    artifacts: RetrievalArtifacts
    index: ItemIndex
    ranker: LoadedRanker
    user_stats: pd.DataFrame  # indexed by user_id, snapshot at the cut
    item_stats: pd.DataFrame  # indexed by item_id, snapshot at the cut
    profiles: pd.DataFrame  # indexed by user_id
    popular: list[str]
    seen: dict[str, set[str]]
    now_ts: float
    n_cf: int
    n_popular: int
    sources: RetrievalSources = field(default_factory=RetrievalSources)
    light: LightRanker | None = None
    full_rank: int = 0  # candidates the light stage passes on (0: the full ranker scores all)
    n_item_to_item: int = 100  # co-interaction and content candidates, each

    def __post_init__(self) -> None:
        self._user_pos = {u: i for i, u in enumerate(self.artifacts.user_ids)}
        self._item_pos = pd.Series(range(len(self.artifacts.item_ids)), index=self.artifacts.item_ids)

    def candidates(self, user: str) -> pd.DataFrame:
        seen = self.seen.get(user, set())
        pos = self._user_pos.get(user)
        sources: dict[str, list[str]] = {}
        if pos is not None:
            query = self.artifacts.user_embeddings[pos : pos + 1]
            ids, _ = self.index.search(query, self.n_cf + len(seen))
            sources["collaborative"] = ids[0]
        seeds = recent_items([], seen)
        if seeds and self.sources.co_interaction is not None:
            sources["co_interaction"] = self.sources.co_interaction.for_items(
                seeds, self.n_item_to_item, seen
            )
        if seeds and self.sources.content is not None:
            sources["content"] = self.sources.content.similar(seeds, self.n_item_to_item, seen)
        sources["popular"] = self.popular[: self.n_popular + len(seen)]
        return merge_sources(sources, excluded=seen)

    def rank(self, user: str, k: int, use_ranker: bool = True) -> list[str]:
        cands = self.candidates(user)
        if cands.empty:
            return []
        positions = self._item_pos.reindex(cands["item_id"]).to_numpy()
        known = ~np.isnan(positions)
        vectors = np.zeros((len(cands), self.artifacts.item_embeddings.shape[1]), np.float32)
        vectors[known] = self.artifacts.item_embeddings[positions[known].astype(int)]
        pos = self._user_pos.get(user)
        query = self.artifacts.user_embeddings[pos] if pos is not None else None
        cands["retrieval_score"] = affinity(query, vectors, known)
        if not use_ranker:
            return cands.sort_values("retrieval_score", ascending=False)["item_id"].head(k).tolist()
        inputs = ranker_inputs(self.raw_features(user, cands))
        ids = cands["item_id"].to_numpy()
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
        seeds = recent_items([], self.seen.get(user, set()))
        extra = self.sources
        for name, values in source_scores(
            extra.co_interaction, extra.content, seeds, cands["item_id"].tolist()
        ).items():
            raw[name] = values
        raw["now_ts"] = self.now_ts
        raw["hour_of_day"] = DEFAULT_HOUR
        raw["device"] = self.profiles["device"].get(user, "") if user in self.profiles.index else ""
        return raw

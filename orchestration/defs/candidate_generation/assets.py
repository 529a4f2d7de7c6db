"""Candidate generation: the two-tower model and its FAISS index, and the other retrieval sources.

Content index, co-interaction neighbours, trending and editorial lists land in the staging area's
``candidates/`` directory (bundled with the rest). Co-interaction learns from history before the
label cut, like the two-tower model, so offline evaluation stays point-in-time correct; the item kNN
neighbours are fitted twice, on everything (served) and before the cut (``at_cut/``, for the
ranker's replay rows and the offline evaluation); trending and new arrivals are as of the latest
event, like the fallback lists.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import dagster as dg
import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.settings import PlatformPaths
from orchestration.defs.candidate_generation.source_tuning import source_tuning, tuned_sources
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import without_hidden
from orchestration.defs.common.warehouse import positive_events, read_table
from orchestration.defs.features.assets import batch_features, load_split
from orchestration.defs.ingestion.assets import catalogue
from orchestration.defs.trust.assets import user_trust
from orchestration.defs.trust.store import with_trust
from training.candidates.als import fit_als
from training.candidates.co_interaction import co_interaction_neighbours, save_neighbours
from training.candidates.content import ContentIndex
from training.candidates.ease import ease_neighbours as fit_ease_neighbours
from training.candidates.editorial import EDITORIAL_FILE, editorial_lists, load_editorial
from training.candidates.item_knn import item_knn_neighbours
from training.candidates.trending import trending_lists
from training.config import (
    CoInteractionConfig,
    IndexConfig,
    ItemKNNConfig,
    RetrievalConfig,
)
from training.index.faiss_index import ItemIndex
from training.retrieval import RetrievalArtifacts, train_retrieval

GROUP = "candidate_generation"


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features], freshness_policy=DAILY_LOOP)
def retrieval_model(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Two-tower model trained on interactions before the label cut (the preference holdout left
    out); embeds every catalogue item."""
    paths = platform.settings.paths
    split = load_split(platform)
    events = read_table(paths, "events")
    history = without_hidden(events[events["timestamp"] < split.cut], split.cut)
    artifacts = train_retrieval(
        read_table(paths, "users"),
        read_table(paths, "items"),
        history,
        RetrievalConfig(),
        progress=platform.progress,
    )
    area = staging(paths)
    artifacts.save(area.retrieval)
    positives = history[history["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    context.log.info(f"two-tower trained in {artifacts.train_seconds:.1f}s")
    return dg.MaterializeResult(
        metadata={
            "train_seconds": round(artifacts.train_seconds, 2),
            "epochs": artifacts.epochs,
            "users": len(artifacts.user_ids),
            "items": len(artifacts.item_ids),
            "embedding_dim": int(artifacts.item_embeddings.shape[1]),
            "training_interactions": len(positives[["user_id", "item_id"]].drop_duplicates()),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[retrieval_model], freshness_policy=DAILY_LOOP)
def item_index(platform: PlatformResource) -> dg.MaterializeResult:
    """FAISS index over item embeddings: exact below the size threshold, HNSW or IVF-PQ above it."""
    area = staging(platform.settings.paths)
    artifacts = RetrievalArtifacts.load(area.retrieval)
    index = ItemIndex.build(artifacts.item_ids, artifacts.item_embeddings, IndexConfig())
    index.save(area.index)
    return dg.MaterializeResult(
        metadata={"kind": index.kind, "items": index.size, "large_kind": index.config.large_kind}
    )


def candidates_dir(paths: PlatformPaths) -> Path:
    """``staging/candidates/``: content/, co_interaction.parquet, trending.json, editorial.json."""
    out = staging(paths).root / "candidates"
    out.mkdir(parents=True, exist_ok=True)
    return out


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[catalogue], freshness_policy=DAILY_LOOP)
def content_index(platform: PlatformResource) -> dg.MaterializeResult:
    """Exact FAISS index of content vectors (title TF-IDF, category, brand, price band)."""
    paths = platform.settings.paths
    index = ContentIndex.build(read_table(paths, "items"))
    index.save(candidates_dir(paths) / "content")
    return dg.MaterializeResult(
        metadata={"items": index.size, "dim": index.encoder.dim, **index.encoder.config.to_dict()}
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features, user_trust], freshness_policy=DAILY_LOOP)
def co_interaction(platform: PlatformResource) -> dg.MaterializeResult:
    """Item-to-item neighbours from co-engagement within sessions before the cut (the preference
    holdout left out), damped for popularity; each pair counts its account's trust weight."""
    paths = platform.settings.paths
    events = with_trust(paths, read_table(paths, "events"))
    config = CoInteractionConfig()
    cut = load_split(platform).cut
    table = co_interaction_neighbours(without_hidden(events[events["timestamp"] < cut], cut), config)
    save_neighbours(table, candidates_dir(paths))
    lengths = table.groupby("item_id").size()
    return dg.MaterializeResult(
        metadata={
            "items_with_neighbours": len(lengths),
            "pairs": len(table),
            "median_neighbours": float(lengths.median()) if len(lengths) else 0.0,
            **config.to_dict(),
        }
    )


def cut_candidates_dir(paths: PlatformPaths) -> Path:
    """Sources fitted on the history before the label cut: what the ranker's replay rows and the
    offline evaluation see (never bundled: serving uses the versions fitted on everything)."""
    out = paths.artifacts / "at_cut" / "candidates"
    out.mkdir(parents=True, exist_ok=True)
    return out


class _Saved(Protocol):
    def save(self, directory: Path) -> Path: ...


S = TypeVar("S", bound=_Saved)


def _fit_served_and_at_cut(platform: PlatformResource, fit: Callable[[pd.DataFrame], S]) -> tuple[S, S]:
    """Fit a collaborative source on every engagement (served, into the bundle) and on those before
    the label cut, the preference holdout left out (``at_cut/``: the ranker's replay rows and the
    offline replay). Each engagement carries its account's trust weight."""
    columns = ["user_id", "item_id", "event_type", "timestamp"]
    paths = platform.settings.paths
    positives = positive_events(with_trust(paths, read_table(paths, "events", columns)))
    served = fit(positives)
    served.save(candidates_dir(paths))
    cut = load_split(platform).cut
    at_cut = fit(without_hidden(positives[positives["timestamp"] < cut], cut))
    at_cut.save(cut_candidates_dir(paths))
    return served, at_cut


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features, user_trust], freshness_policy=DAILY_LOOP)
def item_knn(platform: PlatformResource) -> dg.MaterializeResult:
    """Collaborative item neighbours (shrunk cosine over users, sparse top-k): fitted on every
    engagement for serving, and on those before the label cut for the ranker's rows."""
    config = ItemKNNConfig()
    served, at_cut = _fit_served_and_at_cut(platform, lambda rows: item_knn_neighbours(rows, config))
    per_item = np.diff(served.weights.indptr)
    return dg.MaterializeResult(
        metadata={
            "items": len(served),
            "pairs": int(served.weights.nnz),
            "median_neighbours": float(np.median(per_item)) if len(per_item) else 0.0,
            "items_at_cut": len(at_cut),
            **config.to_dict(),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[source_tuning, user_trust], freshness_policy=DAILY_LOOP)
def ease_neighbours(platform: PlatformResource) -> dg.MaterializeResult:
    """EASE item weights over the most-engaged items (capped: one dense inverse), pruned to sparse
    lists, with the L2 this build tuned: fitted on every engagement for serving, and on those
    before the label cut for the ranker's rows."""
    config = tuned_sources(platform.settings.paths).ease
    served, at_cut = _fit_served_and_at_cut(platform, lambda rows: fit_ease_neighbours(rows, config))
    return dg.MaterializeResult(
        metadata={
            "items": len(served),
            "pairs": int(served.weights.nnz),
            "items_at_cut": len(at_cut),
            **config.to_dict(),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[source_tuning, user_trust], freshness_policy=DAILY_LOOP)
def als_factors(platform: PlatformResource) -> dg.MaterializeResult:
    """Implicit-ALS item factors in a FAISS index (users are folded in per request), with the
    settings this build tuned: fitted on every engagement for serving, and on those before the
    label cut for the ranker's rows."""
    config = tuned_sources(platform.settings.paths).als
    served, at_cut = _fit_served_and_at_cut(platform, lambda rows: fit_als(rows, config))
    return dg.MaterializeResult(
        metadata={"items": len(served), "items_at_cut": len(at_cut), **config.to_dict()}
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features, user_trust], freshness_policy=DAILY_LOOP)
def trending(platform: PlatformResource) -> dg.MaterializeResult:
    """Decayed sliding-window trending, overall and per category, as of the latest event; events
    count with their account's trust weight, one account's share of an item capped."""
    paths = platform.settings.paths
    events = with_trust(paths, read_table(paths, "events", ["user_id", "item_id", "event_type", "timestamp"]))
    lists = trending_lists(
        events, read_table(paths, "items", ["item_id", "category"]), load_split(platform).end
    )
    lists.save(candidates_dir(paths))
    return dg.MaterializeResult(
        metadata={
            "as_of": lists.as_of,
            "overall": len(lists.overall),
            "categories": len(lists.by_category),
            "top": dg.MetadataValue.json(lists.overall[:10]),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[catalogue, batch_features], freshness_policy=DAILY_LOOP)
def editorial(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Editorial pins and new arrivals from ``config/editorial.yaml`` (invalid file: the run fails)."""
    paths = platform.settings.paths
    config = load_editorial(EDITORIAL_FILE)
    lists, missing = editorial_lists(config, read_table(paths, "items"), load_split(platform).end)
    if missing:
        context.log.warning(f"pinned items not in the catalogue (dropped): {missing[:20]}")
    lists.save(candidates_dir(paths))
    return dg.MaterializeResult(
        metadata={
            "pins": len(lists.pins),
            "pinned_items": sum(len(p.items) for p in lists.pins),
            "pinned_missing": dg.MetadataValue.json(missing[:50]),
            "new_arrivals": len(lists.new_overall),
        }
    )

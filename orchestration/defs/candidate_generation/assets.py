"""Candidate generation: the Lightning two-tower model and the FAISS index of item embeddings."""

import dagster as dg

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.features.assets import batch_features, load_split
from training.config import IndexConfig, RetrievalConfig
from training.index.faiss_index import ItemIndex
from training.retrieval import RetrievalArtifacts, train_retrieval

GROUP = "candidate_generation"


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features], freshness_policy=DAILY_LOOP)
def retrieval_model(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Two-tower model trained on interactions before the label cut; embeds every catalogue item."""
    paths = platform.settings.paths
    split = load_split(platform)
    events = read_table(paths, "events")
    history = events[events["timestamp"] < split.cut]
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
    positives[["user_id", "item_id"]].drop_duplicates().to_parquet(area.history, index=False)
    context.log.info(f"two-tower trained in {artifacts.train_seconds:.1f}s")
    return dg.MaterializeResult(
        metadata={
            "train_seconds": round(artifacts.train_seconds, 2),
            "epochs": artifacts.epochs,
            "users": len(artifacts.user_ids),
            "items": len(artifacts.item_ids),
            "embedding_dim": int(artifacts.item_embeddings.shape[1]),
            "training_interactions": len(positives),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[retrieval_model], freshness_policy=DAILY_LOOP)
def item_index(platform: PlatformResource) -> dg.MaterializeResult:
    """FAISS index over item embeddings: exact below the size threshold, HNSW above it."""
    area = staging(platform.settings.paths)
    artifacts = RetrievalArtifacts.load(area.retrieval)
    index = ItemIndex.build(artifacts.item_ids, artifacts.item_embeddings, IndexConfig())
    index.save(area.index)
    return dg.MaterializeResult(metadata={"kind": index.kind, "items": index.size})

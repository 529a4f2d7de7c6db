"""Offline evaluation: the full funnel against retrieval alone and a popularity baseline."""

import json

import dagster as dg
import numpy as np
import pandas as pd
import torch

from bento.sources import RetrievalSources
from bento.surfaces import load_serving_config
from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from orchestration.defs.candidate_generation.assets import co_interaction, content_index
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.evaluation.offline_funnel import EVAL_SURFACE, OfflineFunnel
from orchestration.defs.evaluation.protocols import evaluate_protocols
from orchestration.defs.features.assets import load_split
from orchestration.defs.ingestion.assets import catalogue, events, users
from orchestration.defs.ranking.assets import ranking_model
from training.evaluation.metrics import evaluate_topk
from training.export import load_ranker
from training.index.faiss_index import ItemIndex
from training.light_ranker import WEIGHTS_FILE as LIGHT_WEIGHTS
from training.light_ranker import load_light_ranker
from training.retrieval import RetrievalArtifacts

GROUP = "evaluation"


def _snapshot(frame: pd.DataFrame, at: pd.Timestamp, key: str) -> pd.DataFrame:
    stamps = pd.to_datetime(frame["event_timestamp"], utc=True)
    return frame[stamps == at].drop(columns="event_timestamp").set_index(key)


def holdout(events: pd.DataFrame, cut: pd.Timestamp) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Positives before the cut (seen) and new positives after it (the test set)."""
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    before = positive[positive["timestamp"] < cut]
    after = positive[positive["timestamp"] >= cut]
    seen = before.groupby("user_id")["item_id"].agg(set).to_dict()
    test: dict[str, set[str]] = {}
    for user, items in after.groupby("user_id")["item_id"].agg(set).items():
        fresh = items - seen.get(user, set())
        if fresh:
            test[user] = fresh
    return seen, test


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[ranking_model, co_interaction, content_index],
    freshness_policy=DAILY_LOOP,
)
def offline_evaluation(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Recall@K and NDCG@K on the label window (temporal holdout, items unseen before the cut)."""
    paths = platform.settings.paths
    area = staging(paths)
    split = load_split(platform)
    events = read_table(paths, "events")
    seen, test = holdout(events, split.cut)
    rng = np.random.default_rng(platform.seed)
    users = sorted(test)
    if len(users) > RETRIEVAL.eval_users:
        users = sorted(rng.choice(users, size=RETRIEVAL.eval_users, replace=False).tolist())
    test = {u: test[u] for u in users}

    item_stats = _snapshot(pd.read_parquet(paths.features / "item_stats.parquet"), split.cut, "item_id")
    in_stock = item_stats[item_stats["item_in_stock"]]
    user_stats = _snapshot(pd.read_parquet(paths.features / "user_stats.parquet"), split.cut, "user_id")
    activity = _snapshot(pd.read_parquet(paths.features / "user_activity.parquet"), split.cut, "user_id")
    funnel = OfflineFunnel(
        artifacts=RetrievalArtifacts.load(area.retrieval),
        index=ItemIndex.load(area.index),
        ranker=load_ranker(area.ranker),
        user_stats=user_stats.join(activity, how="outer"),
        item_stats=item_stats,
        profiles=read_table(paths, "users").set_index("user_id"),
        popular=in_stock.sort_values("item_popularity", ascending=False).index.tolist(),
        seen=seen,
        now_ts=split.cut.timestamp(),
        n_cf=RETRIEVAL.candidates_cf,
        n_popular=RETRIEVAL.candidates_popular,
        sources=RetrievalSources.load(area.root),
        light=load_light_ranker(area.ranker) if (area.ranker / LIGHT_WEIGHTS).exists() else None,
        full_rank=load_serving_config(platform.settings.surfaces_file).surface(EVAL_SURFACE).full_rank,
        n_item_to_item=RETRIEVAL.candidates_item_to_item,
    )
    k = max(RETRIEVAL.ks)

    def popularity(batch: list[str], n: int) -> list[list[str]]:
        return [
            [i for i in funnel.popular[: n + len(seen.get(u, ()))] if i not in seen.get(u, ())][:n]
            for u in batch
        ]

    def retrieval_only(batch: list[str], n: int) -> list[list[str]]:
        return [funnel.rank(u, n, use_ranker=False) for u in batch]

    def full_funnel(batch: list[str], n: int) -> list[list[str]]:
        return [funnel.rank(u, n) for u in batch]

    models = {"ours": full_funnel, "two_tower": retrieval_only, "popularity": popularity}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # per-user batches are small: extra threads only contend
    try:
        results = {name: evaluate_topk(fn, test, ks=RETRIEVAL.ks) for name, fn in models.items()}
    finally:
        torch.set_num_threads(threads)
    report = {"protocol": "temporal_label_window", "users": len(test), "k": k, "models": results}
    area.evaluation.write_text(json.dumps(report, indent=2))
    context.log.info(json.dumps(report))
    flat = {f"{m}/{metric}": float(v) for m, r in results.items() for metric, v in r.items()}
    return dg.MaterializeResult(
        metadata={"users_evaluated": len(test), **flat, "report": dg.MetadataValue.json(report)}
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[events, catalogue, users], freshness_policy=DAILY_LOOP)
def protocol_evaluation(
    context: dg.AssetExecutionContext, platform: PlatformResource
) -> dg.MaterializeResult:
    """Our funnel vs tuned popularity, ItemKNN, EASE and ALS under the three offline protocols.

    Stratified 75/25 per user, random 80/20 and temporal (each user's last 20%), each tuned on its
    own validation split; on a bounded cut of the platform's events (see ``ProtocolEvalConfig``).
    """
    paths = platform.settings.paths
    out_dir = staging(paths).root / "quality"
    document = evaluate_protocols(
        read_table(paths, "events"),
        read_table(paths, "items"),
        read_table(paths, "users"),
        out_dir,
        platform.seed,
    )
    context.log.info("\n" + document["table"])
    metadata: dict[str, object] = {
        "table": dg.MetadataValue.md(document["table"]),
        "data": dg.MetadataValue.json(document["data"]),
    }
    for run in document["runs"]:
        protocol = run["protocol"]
        for name, result in run["models"].items():
            metadata[f"{protocol}/{name}/ndcg@10"] = float(result["ndcg@10"])
        for figure, path in run["figures"].items():
            metadata[f"{protocol}/{figure}"] = dg.MetadataValue.path(path)
        metadata[f"{protocol}/best_params"] = dg.MetadataValue.json(run["best_params"])
    return dg.MaterializeResult(metadata=metadata)

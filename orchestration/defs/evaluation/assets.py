"""Offline evaluation: the full funnel against retrieval alone and a popularity baseline."""

import json

import dagster as dg
import numpy as np
import torch

from orchestration.defs.candidate_generation.assets import co_interaction, content_index, item_index
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import evaluation_users
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.evaluation.protocols import evaluate_protocols
from orchestration.defs.features.assets import load_split
from orchestration.defs.ingestion.assets import catalogue, events, users
from orchestration.defs.ranking.assets import ranking_model
from orchestration.defs.ranking.replay import label_window_positives, load_replay
from training.evaluation.metrics import evaluate_topk

GROUP = "evaluation"


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[ranking_model, item_index, co_interaction, content_index],
    freshness_policy=DAILY_LOOP,
)
def offline_evaluation(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Recall@K and NDCG@K on the label window (temporal holdout, items unseen before the cut),
    over the held-out evaluation users only."""
    paths = platform.settings.paths
    area = staging(paths)
    split = load_split(platform)
    events = read_table(paths, "events")
    seen, fresh = label_window_positives(events, split.cut)
    # Only users the ranker never trained on: its rows come from the same label window.
    test = {u: items for u, items in fresh.items() if u in evaluation_users(fresh)}
    rng = np.random.default_rng(platform.seed)
    users = sorted(test)
    if len(users) > RETRIEVAL.eval_users:
        users = sorted(rng.choice(users, size=RETRIEVAL.eval_users, replace=False).tolist())
    test = {u: test[u] for u in users}

    funnel = load_replay(platform.settings, split.cut, seen, with_ranker=True)
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

"""Offline evaluation: the full funnel against retrieval alone and a popularity baseline."""

import json

import dagster as dg
import numpy as np
import pandas as pd

from orchestration.defs.candidate_generation.assets import (
    als_factors,
    co_interaction,
    content_index,
    ease_neighbours,
    item_index,
    item_knn,
)
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import evaluation_users, hidden_preferences, without_hidden
from orchestration.defs.common.warehouse import positive_events, read_table
from orchestration.defs.evaluation.protocols import evaluate_protocols
from orchestration.defs.features.assets import load_split
from orchestration.defs.ingestion.assets import catalogue, events, users
from orchestration.defs.ranking.assets import ranking_model
from orchestration.defs.ranking.replay import (
    PREFERENCE_HOLDOUT,
    evaluation_sample,
    label_window_positives,
    load_replay,
)
from orchestration.defs.ranking.replay_scores import RANKER_GAINS, evaluate_replay

GROUP = "evaluation"


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[ranking_model, item_index, co_interaction, content_index, item_knn, ease_neighbours, als_factors],
    freshness_policy=DAILY_LOOP,
)
def offline_evaluation(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Recall@K and NDCG@K of the funnel replayed at the cut, over held-out evaluation users only,
    on two held-out sets: the label window (what they did next, items unseen before the cut) and
    the preference holdout (engagements before the cut that every model fitted at the cut was
    denied: what they like). The ranker gate reads both."""
    paths = platform.settings.paths
    area = staging(paths)
    split = load_split(platform)
    events = read_table(paths, "events")
    _, fresh = label_window_positives(events, split.cut)
    test = evaluation_sample(fresh, RETRIEVAL.eval_users, platform.seed)
    funnel = load_replay(platform.settings, split.cut, events, with_ranker=True)
    scores = evaluate_replay(funnel, test)
    results = scores.models
    preference = _preference_holdout(platform, events, split.cut)
    k = max(RETRIEVAL.ks)
    report = {
        "protocol": "temporal_label_window",
        "users": len(test),
        "k": k,
        "models": results,
        RANKER_GAINS: scores.gains,  # per user: ranked minus retrieval order, NDCG@10 (the gate's)
        PREFERENCE_HOLDOUT: preference,
    }
    area.evaluation.write_text(json.dumps(report, indent=2))
    context.log.info(json.dumps(report))
    flat = {f"{m}/{metric}": float(v) for m, r in results.items() for metric, v in r.items()}
    flat |= {
        f"{PREFERENCE_HOLDOUT}/{m}/{metric}": float(v)
        for m, r in preference["models"].items()
        for metric, v in r.items()
    }
    return dg.MaterializeResult(
        metadata={"users_evaluated": len(test), **flat, "report": dg.MetadataValue.json(_summary(report))}
    )


def _summary(report: dict) -> dict:
    """The report without its per-user gains (thousands of floats: the file keeps them)."""
    preference = {k: v for k, v in report[PREFERENCE_HOLDOUT].items() if k != RANKER_GAINS}
    return {k: v for k, v in report.items() if k != RANKER_GAINS} | {PREFERENCE_HOLDOUT: preference}


def _preference_holdout(platform: PlatformResource, events: pd.DataFrame, cut: pd.Timestamp) -> dict:
    """The replay without the hidden pairs (``split.hidden_preferences``), scored on the evaluation
    users' hidden pairs (the ranker learned from everyone else's)."""
    positives = positive_events(events)
    hidden = positives[hidden_preferences(positives, cut)]
    wanted = hidden.groupby("user_id")["item_id"].agg(set).to_dict()
    users = sorted(evaluation_users(wanted))
    if len(users) > RETRIEVAL.eval_users:
        rng = np.random.default_rng(platform.seed)
        users = sorted(rng.choice(users, size=RETRIEVAL.eval_users, replace=False).tolist())
    kept = without_hidden(events, cut)
    funnel = load_replay(platform.settings, cut, kept, with_ranker=True)
    test = {u: wanted[u] for u in users}
    scores = evaluate_replay(funnel, test)
    return {"users": len(test), "models": scores.models, RANKER_GAINS: scores.gains}


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[events, catalogue, users], freshness_policy=DAILY_LOOP)
def protocol_evaluation(
    context: dg.AssetExecutionContext, platform: PlatformResource
) -> dg.MaterializeResult:
    """The served funnel vs tuned popularity, ItemKNN, EASE and ALS under the offline protocols.

    For each protocol (``ProtocolEvalConfig``: by default temporal, each user's last 20%, and the
    global label window) the platform is rebuilt from the training split through these same
    assets and its funnel is asked for every test user's page; baselines are tuned on their own
    validation split. On a bounded cut of the platform's events, with paired bootstrap intervals.
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
        for name, interval in run["intervals"].items():
            metadata[f"{protocol}/{name}/ndcg@10_minus_best_baseline"] = dg.MetadataValue.json(interval)
        metadata[f"{protocol}/best_params"] = dg.MetadataValue.json(run["best_params"])
    return dg.MaterializeResult(metadata=metadata)

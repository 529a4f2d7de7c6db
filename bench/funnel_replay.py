"""The served funnel against its own retrieval order, over several ranker seeds.

``python -m bench.funnel_replay [--seeds 0 1 2]`` on a home where the loop has run (``make build``;
``RECO_HOME`` picks it). For each seed it trains both ranker stages on the home's training set (as
the ``ranking_model`` asset does, seed aside: the full stage is a bag of ``RankerConfig.bag_size``
members seeded from it), exports them to a scratch folder and replays the
funnel at the label cut over the held-out evaluation users (as ``offline_evaluation`` does). The
staged models are left untouched. One seed can flatter or sink a small margin; the spread says
whether "ranked beats retrieval order" holds. Figures go to ``bench/results/funnel_replay.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from bench.results_file import record
from orchestration.defs.common.config import RETRIEVAL
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.features.assets import load_split
from orchestration.defs.ranking.assets import TRAINING_SET_FILE
from orchestration.defs.ranking.replay import (
    RANKED,
    RETRIEVAL_ORDER,
    OfflineFunnel,
    evaluation_sample,
    label_window_positives,
    load_replay,
)
from orchestration.defs.ranking.replay_scores import evaluate_replay
from training.config import RankerConfig
from training.export import export_ranker, load_ranker
from training.light_ranker import export_light_ranker, load_light_ranker
from training.ranking import train_light_ranker, train_ranker_bag

METRICS = ("ndcg@10", "recall@10", "ndcg@20", "recall@20")


def replay_seed(
    funnel: OfflineFunnel, test: dict[str, set[str]], frame: pd.DataFrame, seed: int
) -> dict[str, Any]:
    """Train both stages with ``seed``, put them into ``funnel`` and replay the held-out users."""
    config = dataclasses.replace(RankerConfig(), seed=seed)
    started = time.perf_counter()
    full = train_ranker_bag(frame, config, progress=False)
    light = train_light_ranker(frame, config, progress=False)
    trained = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="replay-ranker-") as folder:
        export_ranker(full.model, folder, f"bench-seed{seed}")
        export_light_ranker(light.model, folder, f"bench-seed{seed}")
        funnel.ranker, funnel.bundle.light_ranker = load_ranker(folder), load_light_ranker(folder)
        started = time.perf_counter()
        results = evaluate_replay(funnel, test).models
    return {
        "seed": seed,
        "users": len(test),
        "val_auc": round(full.val_auc, 4),
        "member_val_auc": [round(a, 4) for a in full.member_auc],
        "train_seconds": round(trained, 1),
        "replay_seconds": round(time.perf_counter() - started, 1),
        "models": {m: {k: round(r[k], 4) for k in METRICS} for m, r in results.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    resource = PlatformResource.from_env()
    settings = resource.settings
    frame = pd.read_parquet(settings.paths.features / TRAINING_SET_FILE)
    split = load_split(resource)
    events = read_table(settings.paths, "events")
    _, fresh = label_window_positives(events, split.cut)
    test = evaluation_sample(fresh, RETRIEVAL.eval_users, resource.seed)
    funnel = load_replay(settings, split.cut, events, with_ranker=False)  # once: seeds swap rankers
    runs = []
    for seed in args.seeds:
        run = replay_seed(funnel, test, frame, seed)
        print({"seed": seed, **{m: r["ndcg@10"] for m, r in run["models"].items()}})
        runs.append(run)
    ranked = [r["models"][RANKED]["ndcg@10"] for r in runs]
    retrieval = [r["models"][RETRIEVAL_ORDER]["ndcg@10"] for r in runs]
    summary = {
        "ranked_ndcg@10_mean": round(statistics.mean(ranked), 4),
        "ranked_ndcg@10_min": min(ranked),
        "retrieval_order_ndcg@10": retrieval[0],  # it does not depend on the ranker seed
        "ranked_wins_every_seed": all(o > t for o, t in zip(ranked, retrieval, strict=True)),
    }
    print(summary)
    result = {
        "command": "python -m bench.funnel_replay --seeds " + " ".join(map(str, args.seeds)),
        "world": f"{resource.source_kind}/{resource.world_size}",
        "training_rows": len(frame),
        "training_rows_by_origin": frame["origin"].value_counts().to_dict() if "origin" in frame else {},
        "summary": summary,
        "runs": runs,
        "machine": {
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "load_1m": round(os.getloadavg()[0], 2),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = record("funnel_replay", f"{resource.source_kind}_{resource.world_size}", result)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How fast both models train: ``python -m bench.train_speed --size demo``.

Generates the demo world with ``contracts.world.generate_world`` (falling back to the planted
synthetic world of ``training.synthetic`` if the generator is unavailable), trains the two-tower
model on all its events, builds the FAISS index, and trains the ranker on a synthetic
``RANKER_INPUTS`` frame (``--ranker-rows``, default 1M). Prints the figures and merges them into
``bench/results/train_speed.json`` keyed by size. ``--quality`` adds a temporal-holdout
Recall@20 of the two-tower model against popularity (one more training run).

Budgets (2-core CPU): retrieval <= 120 s on ``demo``, ranker <= 60 s on 1M rows. The machine may
be shared: ``load_before`` records the 1-minute load average so contended runs can be spotted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from bench.results_file import record
from training.config import IndexConfig, RankerConfig, RetrievalConfig
from training.index.faiss_index import ItemIndex
from training.ranking import train_ranker
from training.retrieval import train_retrieval
from training.synthetic import synthetic_ranking_frame, synthetic_world

SYNTHETIC_SIZES = {"tiny": (300, 400, 40_000), "demo": (20_000, 50_000, 2_000_000)}


def load_world(size: str, seed: int) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(source, users, items, events) for a world of the given size."""
    try:
        from contracts.world import generate_world, read_world
    except ImportError:
        n_users, n_items, n_events = SYNTHETIC_SIZES[size]
        world = synthetic_world(n_users, n_items, n_events, n_categories=40, seed=seed)
        return "training.synthetic", world.users, world.items, world.events
    folder = Path(tempfile.mkdtemp(prefix=f"train-speed-{size}-"))
    try:
        generate_world(folder, size, seed, progress=False)  # type: ignore[arg-type]
        tables = read_world(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return "contracts.world.generate_world", tables.users, tables.items, tables.events


def quality(
    users: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, config: RetrievalConfig
) -> dict[str, Any]:
    """Recall@20 / nDCG@20 on a temporal holdout (first 3000 test users), two-tower vs popularity."""
    from training.evaluation.baselines import EmbeddingRecommender, PopularityRecommender
    from training.evaluation.holdout import items_by_user, target_items, temporal_split
    from training.evaluation.metrics import evaluate_topk

    train, test = temporal_split(events)
    targets = target_items(train, test)
    targets = {u: targets[u] for u in sorted(targets)[:3000]}
    artifacts = train_retrieval(users, items, train, config, progress=False)
    two_tower = EmbeddingRecommender(
        artifacts.user_ids,
        artifacts.user_embeddings,
        artifacts.item_ids,
        artifacts.item_embeddings,
        items_by_user(train),
    )
    learned = evaluate_topk(two_tower, targets, ks=(20,), catalogue_size=len(items))
    popular = evaluate_topk(PopularityRecommender().fit(train), targets, ks=(20,), catalogue_size=len(items))
    return {
        "two_tower": {k: round(v, 4) for k, v in learned.items()},
        "popularity": {k: round(v, 4) for k, v in popular.items()},
    }


def measure(size: str, seed: int, ranker_rows: int, with_quality: bool, progress: bool) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    source, users, items, events = load_world(size, seed)
    world_seconds = time.perf_counter() - started

    retrieval_config = RetrievalConfig()
    artifacts = train_retrieval(users, items, events, retrieval_config, progress=progress)
    samples = artifacts.steps * retrieval_config.batch_size
    index_started = time.perf_counter()
    index = ItemIndex.build(artifacts.item_ids, artifacts.item_embeddings, IndexConfig())
    index_seconds = time.perf_counter() - index_started

    frame = synthetic_ranking_frame(ranker_rows, seed=seed)
    ranker = train_ranker(frame, RankerConfig(), progress=progress)
    ranker_samples = ranker.n_rows * max(ranker.epochs, 1)  # every list once per epoch

    result: dict[str, Any] = {
        "size": size,
        "world_source": source,
        "world_seconds": round(world_seconds, 1),
        "users": len(users),
        "items": len(items),
        "events": len(events),
        "retrieval": {
            "train_seconds": round(artifacts.train_seconds, 1),
            "positive_pairs": artifacts.n_pairs,
            "epochs": artifacts.epochs,
            "steps": artifacts.steps,
            "samples_per_second": round(samples / artifacts.train_seconds),
            "val_loss": round(artifacts.metrics.get("val_loss", float("nan")), 4),
            "budget_seconds": 120,
        },
        "index": {"kind": index.kind, "size": index.size, "build_seconds": round(index_seconds, 2)},
        "ranker": {
            "train_seconds": round(ranker.train_seconds, 1),
            "rows": ranker.n_rows,
            "epochs": ranker.epochs,
            "steps": ranker.steps,
            "samples_per_second": round(ranker_samples / ranker.train_seconds),
            "val_auc": round(ranker.val_auc, 4),
            "budget_seconds": 60,
        },
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if with_quality:
        result["quality"] = quality(users, items, events, retrieval_config)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__)
    parser.add_argument("--size", choices=sorted(SYNTHETIC_SIZES), default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ranker-rows", type=int, default=1_000_000)
    parser.add_argument("--quality", action="store_true", help="also measure Recall@20 vs popularity")
    parser.add_argument("--progress", action="store_true", help="show Lightning progress bars")
    args = parser.parse_args(argv)
    result = measure(args.size, args.seed, args.ranker_rows, args.quality, args.progress)
    record("train_speed", str(result["size"]), result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Offline quality of the served funnel under four protocols, against tuned baselines.

    python -m bench.quality --dataset ml100k --path ../shared/datasets/ml-100k
    python -m bench.quality --dataset interactions --path FILE [--columns user=uid,item=iid] [--separator ,]
    python -m bench.quality --dataset demo [--path WORLD_DIR]   # generates the demo world if no path

Per protocol (stratified 75/25 per user, random 80/20, temporal = each user's last 20%,
label_window = the global last 20% by time), each baseline is tuned on its validation split, and
the platform itself is rebuilt from the training split through its real assets; the bundle's
``Funnel`` (the code `bentoml serve` runs) answers every test user's page (``served``), and again
with its ranker off (``served_retrieval_order``). Every model is scored on the same users, with a
paired bootstrap interval of each served row's NDCG@10 difference to the best baseline.
``--stacked`` adds the offline-only stacked reference model. Writes
``bench/results/quality_<dataset>.json`` (other protocols' earlier runs kept), two PNGs per
protocol, and each (seed, protocol)'s served-vs-best-baseline row in ``quality_<dataset>_seeds.json``.
``--seeds-only`` updates just that seeds file (other seeds leave the committed results alone):

    python -m bench.quality --dataset ml100k --path ../shared/datasets/ml-100k --seed 1 --seeds-only

The demo world is cut to its ``--max-items`` (default 5,000) most-interacted items; ``--max-users``
samples users. Every model, the served platform included (it is built on the cut's users, items
and events), is evaluated on that cut. A big real file needs no cut: the baselines bound
themselves (``BaselineScaleConfig``: EASE on the most-interacted items, ItemKNN sparse), and
``--max-test-users`` / ``--max-val-users`` bound the evaluation's cost with seeded samples of the
test users (every model scored on the same ones) and of the validation users the grids are tuned on:

    python -m bench.quality --dataset interactions --path reviews.jsonl \
        --columns user=reviewerID,item=asin,timestamp=unixReviewTime,rating=overall \
        --max-test-users 5000 --max-val-users 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from bench.results_file import RESULTS_DIR
from contracts.world.io import WorldTables
from orchestration.defs.evaluation.served import served_models
from training.config import BaselineScaleConfig
from training.evaluation.benchmark import BenchmarkConfig, SideTables, run_protocol
from training.evaluation.interactions import from_events, restrict
from training.evaluation.plots import run_figures
from training.evaluation.protocols import PROTOCOLS
from training.evaluation.summary import markdown_table, merge_runs, merge_seeds

DATASETS = ("ml100k", "interactions", "demo")
DEMO_END_TIME = datetime(2026, 1, 1, tzinfo=UTC)  # pinned so the generated world is the same every run
DEMO_CUT = {"max_items": 5_000}  # keeps ~90% of the demo world's positive pairs and every user


def load(
    dataset: str, path: str | None, columns: str | None, separator: str | None, seed: int
) -> WorldTables:
    if dataset == "ml100k":
        from contracts.datasets import load_movielens

        return load_movielens(_required(path))
    if dataset == "interactions":
        from contracts.datasets import load_interactions

        return load_interactions(_required(path), columns=columns, separator=separator)
    from contracts.world.generator import generate_world
    from contracts.world.io import read_world

    if path:
        return read_world(Path(path))
    folder = Path(tempfile.mkdtemp(prefix="quality-demo-"))
    try:
        generate_world(folder, "demo", seed, end_time=DEMO_END_TIME, progress=False)
        return read_world(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _required(path: str | None) -> str:
    if not path:
        sys.exit("--path is required for this dataset")
    return path


def machine() -> dict[str, Any]:
    memory = ""
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    return {
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "memory": memory,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_before": round(os.getloadavg()[0], 2),
    }


def run(
    dataset: str,
    world: WorldTables,
    protocols: tuple[str, ...],
    seed: int,
    config: BenchmarkConfig,
    results_dir: Path = RESULTS_DIR,
    max_users: int | None = None,
    max_items: int | None = None,
    stacked: bool = False,
    command: str = "",
    seeds_only: bool = False,
    baselines_only: bool = False,
) -> dict[str, Any]:
    """Every protocol on one dataset; returns the results document (written unless ``seeds_only``).

    ``baselines_only`` leaves the served platform out (its build is the loop, measured on its own
    by ``bench.real_file``): the tuned baselines' cost and quality on a big file, written to
    ``quality_<dataset>_baselines.json`` without figures or seed rows."""
    info = machine()
    data = restrict(from_events(world.events, world.items), max_users, max_items, seed)
    reference = SideTables(world.users, world.items) if stacked else False
    served = None if baselines_only else served_models(world, seed)
    runs = []
    for protocol in protocols:
        result = run_protocol(data, protocol, config, seed=seed, models=served, stacked=reference)
        if not (seeds_only or baselines_only):
            figures = run_figures(result, results_dir, f"quality_{dataset}")
            result["figures"] = {k: p.name for k, p in figures.items()}
        runs.append(result)
        print(markdown_table([result]), flush=True)
    extra = {
        "dataset": dataset,
        "data": {"users": data.n_users, "items": data.n_items, "interactions": len(data)},
        "subsample": {
            "max_users": max_users,
            "max_items": max_items,
            "max_test_users": config.max_test_users,
            "max_val_users": config.tuning.max_val_users,
        },
        "baseline_scale": BaselineScaleConfig().to_dict(),
        "command": command,
        "machine": info | {"load_after": round(os.getloadavg()[0], 2)},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if baselines_only:
        return merge_runs(results_dir / f"quality_{dataset}_baselines.json", runs, extra)
    merge_seeds(results_dir / f"quality_{dataset}_seeds.json", runs, extra)
    if seeds_only:
        return {"runs": runs, **extra}
    return merge_runs(results_dir / f"quality_{dataset}.json", runs, extra)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--path", help="ml-100k folder, interactions file, or a world directory for demo")
    parser.add_argument("--columns", help="interactions column mapping, e.g. user=uid,item=iid,timestamp=ts")
    parser.add_argument("--separator", help="interactions field separator")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-users", type=int, help="seeded user sample (default: all users)")
    parser.add_argument("--max-items", type=int, help="most-interacted items kept (demo default: 5000)")
    parser.add_argument("--max-test-users", type=int, help="seeded sample of the test users (default: all)")
    parser.add_argument("--max-val-users", type=int, help="seeded sample of the tuning's validation users")
    parser.add_argument(
        "--stacked", action="store_true", help="add the offline-only stacked reference model (slow)"
    )
    parser.add_argument(
        "--baselines-only", action="store_true", help="only the tuned baselines (no platform build)"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--seeds-only", action="store_true", help="only add this seed's runs to quality_<dataset>_seeds.json"
    )
    args = parser.parse_args(argv)
    cut = DEMO_CUT if args.dataset == "demo" else {}
    max_users = args.max_users if args.max_users is not None else cut.get("max_users")
    max_items = args.max_items if args.max_items is not None else cut.get("max_items")
    started = time.perf_counter()
    world = load(args.dataset, args.path, args.columns, args.separator, args.seed)
    base = BenchmarkConfig()
    tuning = replace(base.tuning, max_val_users=args.max_val_users)
    config = replace(base, tuning=tuning, max_test_users=args.max_test_users)
    command = "python -m bench.quality " + " ".join(argv if argv is not None else sys.argv[1:])
    document = run(
        args.dataset, world, tuple(args.protocols), args.seed, config, args.results_dir,
        max_users, max_items, args.stacked, command, args.seeds_only, args.baselines_only,
    )  # fmt: skip
    print(f"\nall protocols ({time.perf_counter() - started:.0f} s):\n")
    print(markdown_table(document["runs"]))
    written = [f"quality_{args.dataset}_seeds.json"]
    written += [] if args.seeds_only else [f"quality_{args.dataset}.json"]
    written = [f"quality_{args.dataset}_baselines.json"] if args.baselines_only else written
    print(f"\nwrote {', '.join(str(args.results_dir / w) for w in written)}")


if __name__ == "__main__":
    main()

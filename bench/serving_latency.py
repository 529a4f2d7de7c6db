"""Serving latency of the funnel: `python -m bench.serving_latency [--url http://127.0.0.1:3000]`.

Without ``--url`` it runs the funnel in process over the current bundle and feature store (what a
request costs without HTTP); with it, it times real POST /recommend calls against a running
`bentoml serve`. Prints and writes ``bench/results/serving_latency.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.results_file import record


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(samples_ms)
    return {f"p{q}": round(float(np.percentile(arr, q)), 2) for q in (50, 95, 99)} | {
        "mean": round(float(arr.mean()), 2),
        "n": len(arr),
    }


def _users(n: int, seed: int) -> list[str]:
    import bentoml
    import pandas as pd

    root = Path(bentoml.models.get("reco_bundle:latest").path)
    known = pd.read_parquet(root / "history.parquet")["user_id"].unique().tolist()
    rng = random.Random(seed)
    return [rng.choice(known) if rng.random() < 0.9 else f"new-user-{k}" for k in range(n)]


def in_process(
    users: list[str], page_size: int, stages: list[dict[str, float]] | None = None
) -> tuple[list[float], dict[str, int]]:
    """Requests through the service's own funnel factory; ``stages`` collects each reply's
    ``stage_ms`` (where its time went)."""
    import bentoml
    import torch

    from bento.assembly import assemble_funnel, load_bundle_ranker
    from contracts.api import RecommendRequest
    from contracts.settings import load_settings

    torch.set_num_threads(1)  # as the Ranker service does
    root = Path(bentoml.models.get("reco_bundle:latest").path)
    # The service's own factory, with its caches as configured, but no response cache.
    funnel = assemble_funnel(
        root, load_settings(), load_bundle_ranker(root).score, response_cache=False
    ).funnel
    levels: dict[str, int] = {}
    samples = []
    for user in users:
        started = time.perf_counter()
        reply = funnel.recommend(RecommendRequest(user_id=user, page_size=page_size))
        samples.append((time.perf_counter() - started) * 1000)
        key = str(reply.metadata.fallback_level)
        levels[key] = levels.get(key, 0) + 1
        if stages is not None:
            stages.append(reply.metadata.stage_ms)
    return samples, levels


def stage_percentiles(stages: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """p50 and p95 of each stage's milliseconds over the replies that ran it."""
    names = dict.fromkeys(name for stage in stages for name in stage)
    return {
        name: {
            f"p{q}": round(float(np.percentile([s[name] for s in stages if name in s], q)), 2)
            for q in (50, 95)
        }
        for name in names
    }


def over_http(url: str, users: list[str], page_size: int) -> tuple[list[float], dict[str, int]]:
    import httpx

    samples, levels = [], {}
    with httpx.Client(timeout=30) as client:
        for user in users:
            started = time.perf_counter()
            reply = client.post(f"{url}/recommend", json={"user_id": user, "page_size": page_size})
            samples.append((time.perf_counter() - started) * 1000)
            key = str(reply.json()["metadata"]["fallback_level"]) if reply.status_code == 200 else "error"
            levels[key] = levels.get(key, 0) + 1
    return samples, levels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="time a running service instead of the in-process funnel")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--label", help="record under '<mode>_<label>' (another bundle or tree)")
    args = parser.parse_args(argv)
    users = _users(args.requests + args.warmup, seed=7)
    stages: list[dict[str, float]] = []
    run = (
        (lambda u: over_http(args.url, u, args.page_size))
        if args.url
        else (lambda u: in_process(u, args.page_size, stages))
    )
    samples, levels = run(users)
    samples, stages = samples[args.warmup :], stages[args.warmup :]
    result = {
        "mode": "http" if args.url else "in_process",
        "latency_ms": _percentiles(samples),
        "fallback_levels": levels,
        "stage_ms": stage_percentiles(stages) if stages else None,
        "page_size": args.page_size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    record("serving_latency", f"{result['mode']}_{args.label}" if args.label else result["mode"], result)


if __name__ == "__main__":
    main()

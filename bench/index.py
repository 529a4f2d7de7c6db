"""FAISS index kinds at catalogue scale: `python -m bench.index [--sizes 100000 1000000]`.

Synthetic clustered unit-norm embeddings (dim 64, like the two-tower's; seeded), queries drawn from
the same mixture. For each size: exact (``IndexFlatIP``), HNSW at a couple of ``efSearch`` values
and IVF-PQ at a couple of ``nprobe`` values, all through ``ItemIndex`` (the code path serving
calls, id mapping included): build seconds, index bytes (serialized FAISS index, ids excluded),
recall@500 against exact search, and query latency p50/p99 for one query (one thread: a request
runs one search while other workers use the other cores) and per query in a batch (all cores).
Prints a table and writes ``bench/results/index.json``; the figures pick ``IndexConfig``'s defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import faiss
import numpy as np

from bench.results_file import record
from training.config import IndexConfig
from training.index.faiss_index import ItemIndex

DIM = 64
K = 500
EF_SEARCH = (512, 1024)  # efSearch below k is raised to k anyway
NPROBE = (32, 128)
KNOB_NAMES = {"ef_search": "efSearch", "ivf_nprobe": "nprobe"}


def clustered(n: int, n_queries: int, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Items and queries from one mixture of ~sqrt(n) clusters with skewed sizes, unit norm."""
    rng = np.random.default_rng(seed)
    n_clusters = max(8, int(np.sqrt(n)))
    centres = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = rng.lognormal(0.0, 1.0, n_clusters)
    weights /= weights.sum()

    def draw(count: int) -> np.ndarray:
        which = rng.choice(n_clusters, count, p=weights)
        x = centres[which] + rng.normal(scale=0.1, size=(count, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(n_queries)


def _ms(samples: list[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000.0
    return {"p50": round(float(np.percentile(arr, 50)), 3), "p99": round(float(np.percentile(arr, 99)), 3)}


def measure_search(
    index: ItemIndex, queries: np.ndarray, truth: list[set[str]], n_single: int
) -> dict[str, Any]:
    """Recall@K over all queries (one batch, all cores) and single-query latency (one thread)."""
    threads = faiss.omp_get_max_threads()
    index.search(queries[:8], K)  # warm caches and the lazy id array
    started = time.perf_counter()
    found, _ = index.search(queries, K)
    batch_s = time.perf_counter() - started
    recall = float(np.mean([len(truth[i] & set(row)) / K for i, row in enumerate(found)]))
    faiss.omp_set_num_threads(1)
    try:
        single = []
        for row in queries[:n_single]:
            started = time.perf_counter()
            index.search(row[None, :], K)
            single.append(time.perf_counter() - started)
    finally:
        faiss.omp_set_num_threads(threads)
    return {
        "recall_at_500": round(recall, 4),
        "single_ms": _ms(single),
        "batch_ms_per_query": round(batch_s * 1000.0 / len(queries), 3),
        "batch_size": len(queries),
    }


def bench_size(n: int, n_queries: int, n_single: int, seed: int, only: list[str]) -> dict[str, Any]:
    items, queries = clustered(n, n_queries, seed=seed)
    ids = [f"i{i:07d}" for i in range(n)]
    rows: dict[str, Any] = {}
    builds = [  # (name, config, knob varied at search time, its values)
        ("exact", IndexConfig(exact_max_items=n), None, (None,)),
        ("hnsw", IndexConfig(exact_max_items=0, large_kind="hnsw"), "ef_search", EF_SEARCH),
        ("ivfpq m=16", IndexConfig(exact_max_items=0, large_kind="ivfpq", pq_m=16), "ivf_nprobe", NPROBE),
        (
            "ivfpq m=32",
            IndexConfig(exact_max_items=0, large_kind="ivfpq", pq_m=32),
            "ivf_nprobe",
            NPROBE,
        ),
    ]
    if only:  # exact always runs: it is the ground truth
        builds = [b for b in builds if b[0] == "exact" or any(b[0].startswith(o) for o in only)]
    truth: list[set[str]] = []
    for build_name, config, knob, values in builds:
        started = time.perf_counter()
        index = ItemIndex.build(ids, items, config)
        build_s = time.perf_counter() - started
        index_bytes = int(faiss.serialize_index(index.index).nbytes)
        if index.kind == "exact":
            found, _ = index.search(queries, K)
            truth = [set(row) for row in found]
        for value in values:
            index.config = replace(config, **{knob: value}) if knob else config
            name = build_name + (f" {KNOB_NAMES[knob]}={value}" if knob else "")
            rows[name] = {
                "kind": index.kind,
                "build_s": round(build_s, 2),
                "index_mb": round(index_bytes / 2**20, 1),
                "config": index.config.to_dict(),
                **measure_search(index, queries, truth, n_single),
            }
            print(_line(n, name, rows[name]), flush=True)
        del index
    return rows


def _line(n: int, name: str, row: dict[str, Any]) -> str:
    return (
        f"{n:>9,} {name:<26} build {row['build_s']:>7.1f}s  {row['index_mb']:>7.1f} MB  "
        f"recall@500 {row['recall_at_500']:.3f}  single p50 {row['single_ms']['p50']:>7.2f} ms "
        f"p99 {row['single_ms']['p99']:>7.2f} ms  batch {row['batch_ms_per_query']:>6.2f} ms/q"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1_000, help="recall and batch queries")
    parser.add_argument("--single", type=int, default=200, help="single-query latency samples")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="build and batch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=[], help='builds to run, e.g. "ivfpq m=32"')
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    faiss.omp_set_num_threads(args.threads)
    machine = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "faiss": faiss.__version__,
        "python": platform.python_version(),
    }
    print(f"k={K}, dim={DIM}, {args.queries} queries, {machine}")
    for n in args.sizes:
        load_before = os.getloadavg()[0]
        rows = bench_size(n, args.queries, args.single, args.seed, args.only)
        result = {
            "items": n,
            "dim": DIM,
            "k": K,
            "results": rows,
            **machine,
            "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if not args.no_record:
            path = record("index", " + ".join([str(n), *args.only]), result)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()

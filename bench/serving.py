"""Serving under load: `python -m bench.serving` -> `bench/results/serving.json`.

    python -m bench.serving                          # the serving world: 100k users, 1M items
    python -m bench.serving --home data --rates 10 25 --duration 20   # a home already built

Builds (or reuses, when fresh) the bundle of ``--world-size`` under its own home through the real
loop (`orchestration.materialize`, what `make build` runs), starts the service as `make run` starts
it (`orchestration.platform`'s service child: `bentoml serve` with its workers), and drives it with
open-loop fixed-rate load from a separate process (`bench.load.open_loop`: mixed surfaces, 10% never
-seen users) at each rate in turn. Beside it, the bare funnel in process over the same bundle (no
HTTP, no service): the ratio of the two p50s is what the serving stack adds. Reported per rate:
p50/p95/p99 end to end, per surface and per stage (where the response carries ``stage_ms``),
error, shed (503), throttled (429) and fallback rates, empty pages; and the first rate at which p99
passes 200 ms. The machine and its load are recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results_file import record
from contracts.settings import REPO_ROOT

P99_BUDGET_MS = 200.0
DEFAULT_RATES = (10, 25, 50, 100)


def _environment(home: Path, world_size: str) -> dict[str, str]:
    return {
        **os.environ,
        "RECO_HOME": str(home),
        "RECO_WORLD_SIZE": world_size,
        "BENTOML_HOME": str(home / "bentoml"),
        "DAGSTER_HOME": str(home / "dagster"),
    }


def build(env: dict[str, str]) -> float:
    """The loop through `orchestration.materialize` (a fresh bundle is reused); its wall seconds."""
    dagster_home = Path(env["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        (dagster_home / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestration.materialize"], env=env, cwd=REPO_ROOT, check=True)
    return round(time.perf_counter() - started, 1)


def targets(home: Path, path: Path, n_users: int = 20_000, seed: int = 7) -> Path:
    """Known users and catalogue items for the load to draw from, sampled from the served bundle."""
    import pandas as pd

    bundle = _bundle_dir(home)
    users = pd.read_parquet(bundle / "history.parquet", columns=["user_id"])["user_id"].unique().tolist()
    items = pd.read_parquet(bundle / "catalogue.parquet", columns=["item_id"])["item_id"].tolist()
    rng = random.Random(seed)
    chosen = {
        "users": rng.sample(users, min(n_users, len(users))),
        "items": rng.sample(items, min(50_000, len(items))),
    }
    path.write_text(json.dumps(chosen))
    return path


def _bundle_dir(home: Path) -> Path:
    """The production bundle's files (``BENTOML_HOME`` is this home's: ``main`` sets it)."""
    import bentoml

    from contracts.registry import BUNDLE_MODEL, production_tag

    return Path(bentoml.models.get(production_tag(home) or f"{BUNDLE_MODEL}:latest").path)


def start_service(env: dict[str, str], port: int, logs: Path):
    """The service exactly as `make run` starts it (the platform supervisor's service child)."""
    from orchestration.platform import children, wait_ready

    service = next(c for c in children(port, port + 1) if c.name == "service")
    service.start(env, logs)
    wait_ready([service])
    return service


def run_rate(url: str, rate: float, duration: float, targets_file: Path, key: str, out: Path) -> dict:
    command = [
        sys.executable, "-m", "bench.load.open_loop", "--url", url, "--rate", str(rate),
        "--duration", str(duration), "--targets", str(targets_file), "--key", key, "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["summary"]


def bare_funnel(env: dict[str, str], requests: int) -> dict:
    """The in-process funnel over the same bundle (`bench.serving_latency`), in its own process."""
    out = subprocess.run(
        [sys.executable, "-c", _BARE.format(requests=requests)],
        env=env, cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


_BARE = """
import json
from bench.serving_latency import _percentiles, _users, in_process
users = _users({requests} + 30, seed=11)
samples, levels = in_process(users, 20)
print(json.dumps({{"latency_ms": _percentiles(samples[30:]), "fallback_levels": levels}}))
"""


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world-size", default="serving", help="tiny, demo, serving (100k x 1M), large")
    parser.add_argument("--home", help="a platform home (default data/bench-<world-size>)")
    parser.add_argument("--rates", type=float, nargs="+", default=list(DEFAULT_RATES))
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per rate")
    parser.add_argument("--port", type=int, default=3090)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of unrecorded load first")
    parser.add_argument("--bare-requests", type=int, default=300)
    parser.add_argument("--key", default="default", help="results key in serving.json")
    args = parser.parse_args(argv)
    home = Path(args.home or REPO_ROOT / "data" / f"bench-{args.world_size}").resolve()
    env = _environment(home, args.world_size)
    os.environ.update(env)  # before BentoML is imported: its store is this home's
    build_s = build(env)
    from bento.auth.keys import ensure_local_keys
    from contracts.settings import load_settings

    client_key = ensure_local_keys(load_settings(env).paths)["client"]
    url = f"http://127.0.0.1:{args.port}"
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as tmp:
        scratch = Path(tmp)
        targets_file = targets(home, scratch / "targets.json")
        service = start_service(env, args.port, scratch / "logs")
        try:
            if args.warmup > 0:  # caches, lazy imports and the first batches: not what is measured
                run_rate(url, min(args.rates), args.warmup, targets_file, client_key, scratch / "warmup.json")
            for rate in args.rates:
                load_before = _loadavg()
                out = scratch / f"{rate}.json"
                summary = run_rate(url, rate, args.duration, targets_file, client_key, out)
                summary["loadavg_before"] = load_before
                shown = ("rate_per_s", "latency_ms", "error_rate", "shed_rate")
                print(json.dumps({k: summary[k] for k in shown}), flush=True)
                runs.append(summary)
        finally:
            service.stop()
    bare = bare_funnel(env, args.bare_requests)
    crossing = next((r["rate_per_s"] for r in runs if r["latency_ms"].get("p99", 0) > P99_BUDGET_MS), None)
    lowest = runs[0]["latency_ms"].get("p50") if runs else None
    result = {
        "world_size": args.world_size,
        "home": str(home),
        "build_seconds": build_s,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "runs": runs,
        "p99_crosses_200ms_at_rate": crossing,
        "bare_funnel_in_process": bare,
        "overhead_ratio_p50": round(lowest / bare["latency_ms"]["p50"], 2) if lowest else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    record("serving", args.key, result)


if __name__ == "__main__":
    main()

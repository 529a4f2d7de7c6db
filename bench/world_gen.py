"""How fast the demo world generates: ``python -m bench.world_gen --size demo``.

Reports wall-clock seconds, events per second, peak RSS (``ru_maxrss`` of this process, imports
included) and size on disk, prints them and merges them into ``bench/results/world_gen.json``
keyed by size (so a ``large`` run does not erase the ``demo`` figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.results_file import record
from contracts.world.generator import generate_world
from contracts.world.sizes import SPECS

MIB = 1024 * 1024


def _disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(size: str, seed: int, out: Path, progress: bool) -> dict[str, object]:
    started = time.perf_counter()
    summary = generate_world(out, size, seed, progress=progress)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return {
        "size": size,
        "seed": seed,
        "seconds": round(seconds, 2),
        "events": summary.n_events,
        "users": summary.n_users,
        "items": summary.n_items,
        "event_files": summary.n_event_files,
        "events_per_second": round(summary.n_events / seconds),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),  # KiB on Linux
        "disk_mib": round(_disk_bytes(out) / MIB, 1),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.world_gen", description=__doc__)
    parser.add_argument("--size", choices=sorted(SPECS), default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="keep the world here (default: a temporary folder, deleted)")
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix=f"world-{args.size}-"))
    try:
        result = measure(args.size, args.seed, out, args.progress)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    record("world_gen", str(result["size"]), result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

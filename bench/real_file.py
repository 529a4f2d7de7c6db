"""The whole loop on a review file of real size: each step's time and peak RSS, saved.

    python -m bench.real_file                         # ~300k-line JSONL file, fresh home, full loop
    python -m bench.real_file --format tsv --lines 100000
    python -m bench.real_file --record-only --home H --file F   # record a loop already run in H

Generates the synthetic review file (``bench.interactions_file``, seeded; nothing is downloaded),
runs ``python -m orchestration.materialize --force`` on it in a fresh ``RECO_HOME`` (what ``make
build`` and so ``make run`` do), and merges the run's ``artifacts/loop_profile.json`` (per step:
wall seconds and peak RSS; ``orchestration.step_profile``) with the file's shape, the machine and
its load into ``bench/results/real_file.json``, keyed by format and line count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.interactions_file import JSONL_COLUMNS, ReviewFileSpec, write_review_file
from bench.results_file import record
from orchestration.step_profile import PROFILE_FILE

QUIET_ENV = {
    "GX_ANALYTICS_ENABLED": "false",
    "BENTOML_DO_NOT_TRACK": "true",
    "DAGSTER_DISABLE_TELEMETRY": "true",
    "FEAST_USAGE": "False",
}
SLOWEST = 8  # steps listed in the printed summary


def machine() -> dict[str, Any]:
    kib = int(Path("/proc/meminfo").read_text().split()[1]) if Path("/proc/meminfo").exists() else 0
    return {
        "arch": platform.machine(),
        "cpus": os.cpu_count(),
        "memory": f"{kib / 2**20:.0f} GiB",
        "python": platform.python_version(),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def run_loop(home: Path, source: Path, columns: str | None) -> float:
    """``orchestration.materialize --force`` in its own process, its output passed through."""
    env = (
        os.environ
        | QUIET_ENV
        | {
            "RECO_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "BENTOML_HOME": str(home / "bentoml"),
            "RECO_SOURCE": "interactions",
            "RECO_SOURCE_PATH": str(source),
        }
    )
    if columns:
        env["RECO_SOURCE_COLUMNS"] = columns
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    (home / "dagster" / "dagster.yaml").write_text(Path("dagster.yaml").read_text())
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "orchestration.materialize", "--force"], env=env, check=False)
    return round(time.perf_counter() - started, 1)


def summary(profile: dict[str, Any]) -> list[str]:
    steps = sorted(profile["steps"], key=lambda s: -s["seconds"])
    lines = [
        f"loop {profile['wall_seconds']:.0f} s, process peak RSS {profile['process_peak_rss_mib']:.0f} MiB"
    ]
    lines += [
        f"  {s['step']}: {s['seconds']:.1f} s, peak {s['peak_rss_mib']:.0f} MiB" for s in steps[:SLOWEST]
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.real_file", description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=["txt", "tsv", "jsonl"], default="jsonl")
    parser.add_argument("--lines", type=int, default=ReviewFileSpec.lines)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", type=Path, help="RECO_HOME of the run (default: a fresh temporary one)")
    parser.add_argument("--file", type=Path, help="the review file (default: generated into the home)")
    parser.add_argument("--record-only", action="store_true", help="record the loop already run in --home")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="real-file-"))
    source = args.file or home / f"reviews.{args.format}"
    spec = ReviewFileSpec(lines=args.lines, seed=args.seed)
    columns = JSONL_COLUMNS if source.suffix == ".jsonl" else None
    load_before = round(os.getloadavg()[0], 2)
    if args.record_only:
        with open(source, "rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        shape: dict[str, Any] = {"path": str(source), "bytes": source.stat().st_size, "lines": lines}
        wall = None
    else:
        shape = write_review_file(source, spec, args.format)
        wall = run_loop(home, source, columns)
    profile = json.loads((home / "artifacts" / PROFILE_FILE).read_text())
    summary_file = home / "world" / "world.json"
    world = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    result = {
        "file": shape | {"columns": columns},
        "world": {k: world[k] for k in ("n_users", "n_items", "n_events") if k in world},
        "loop": profile,
        "process_seconds": wall,
        "command": "python -m bench.real_file " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine() | {"load_before": load_before},
        "note": args.note,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = record("real_file", f"{source.suffix.lstrip('.')}_{shape.get('lines', args.lines)}", result)
    print("\n".join(summary(profile)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

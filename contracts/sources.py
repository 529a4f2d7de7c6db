"""Turn the configured source (the demo world or a real dataset) into a world directory, atomically.

The world is written into a temporary sibling directory and renamed into place at the end, so a
crash or a bad input file never leaves half a world where the pipeline reads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from contracts.datasets import load_interactions, load_movielens
from contracts.settings import SourceConfig
from contracts.world.generator import generate_world
from contracts.world.io import WorldSummary, write_tables

_WORLD_MODE = 0o755  # mkdtemp makes 0700 directories; a world is meant to be read by other tools


def _build(source: SourceConfig, out_dir: Path, progress: bool, end_time: datetime | None) -> WorldSummary:
    if source.kind == "demo":
        return generate_world(out_dir, source.size, source.seed, end_time=end_time, progress=progress)
    if source.path is None:
        raise ValueError(f"source kind {source.kind!r} needs a path (RECO_SOURCE_PATH)")
    if source.kind == "movielens":
        tables = load_movielens(source.path)
    elif source.kind == "interactions":
        tables = load_interactions(source.path, source.columns, source.separator, end_time=end_time)
    else:
        raise ValueError(f"unknown source kind {source.kind!r}")
    return write_tables(
        out_dir, tables.users, tables.items, tables.events, kind=source.kind, source_path=str(source.path)
    )


def _swap_in(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; an existing world is moved aside first and deleted after."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(old)
    new.rename(target)
    shutil.rmtree(old)


def materialize_source(
    source: SourceConfig, out_dir: Path, progress: bool = True, *, end_time: datetime | None = None
) -> WorldSummary:
    """Write ``source`` as a world at ``out_dir`` (replacing any previous one) and return its summary.

    ``end_time`` pins the demo world's window (and synthesized timestamps of interaction files
    without any); by default it is the current hour.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        staging.chmod(_WORLD_MODE)
        summary = _build(source, staging, progress, end_time)
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m contracts.sources", description=__doc__)
    parser.add_argument("--kind", choices=["demo", "movielens", "interactions"], default="demo")
    parser.add_argument("--size", choices=["tiny", "demo", "serving", "large"], default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", type=Path, help="dataset folder or file (movielens, interactions)")
    parser.add_argument("--columns", help="interactions column mapping, e.g. user=uid,item=iid,timestamp=ts")
    parser.add_argument("--separator", help="interactions field separator")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    source = SourceConfig(
        kind=args.kind,
        size=args.size,
        seed=args.seed,
        path=args.path,
        columns=args.columns,
        separator=args.separator,
    )
    print(materialize_source(source, args.out).model_dump_json(indent=2))


if __name__ == "__main__":
    main()

"""``python -m contracts.world --size tiny --seed 7 --out DIR``: generate a world, print its summary."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from contracts.world.generator import generate_world
from contracts.world.sizes import SPECS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m contracts.world", description=__doc__)
    parser.add_argument("--size", choices=sorted(SPECS), default="tiny")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--end-time", type=datetime.fromisoformat, help="ISO time with zone; default: this hour"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    summary = generate_world(args.out, args.size, args.seed, end_time=args.end_time, progress=not args.quiet)
    print(summary.model_dump_json(indent=2))


if __name__ == "__main__":
    main()

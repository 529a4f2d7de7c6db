"""Where benchmarks keep their figures: `bench/results/<name>.json`, one entry per key, merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


def record(name: str, key: str, result: dict[str, Any]) -> Path:
    """Store ``result`` under ``key`` in ``<name>.json``, keeping the other keys' figures."""
    path = RESULTS_DIR / f"{name}.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[key] = result
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return path

"""The protocol benchmark on the platform's own events, sized for the daily loop.

Same code as ``python -m bench.quality`` (``training.evaluation.benchmark`` with the served funnel
of ``served``: the platform rebuilt from each protocol's training split and asked for the test
users' pages), on a bounded cut of the data, with smaller baseline grids and by default two of the
four protocols, so the asset costs minutes, not the bench's tens of minutes.
"""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from contracts.world.io import WorldTables
from orchestration.defs.evaluation.served import served_models
from training.evaluation.benchmark import BenchmarkConfig, run_protocol
from training.evaluation.config import TuningConfig
from training.evaluation.interactions import from_events, restrict
from training.evaluation.plots import run_figures
from training.evaluation.summary import markdown_table


class ProtocolEvalConfig(BaseModel):
    """Bounds on the asset's cost: the protocols, the cut of the data and the baseline grids."""

    protocols: tuple[str, ...] = ("temporal", "label_window")
    max_users: int = 2_000
    max_items: int = 2_000
    # Smaller grids than the bench's (same models), around the values the bench picks on ml-100k.
    grids: dict[str, dict[str, list[Any]]] = {
        "popularity": {},
        "itemknn": {"neighbours": [100, 400], "shrink": [10.0]},
        "ease": {"l2": [100.0, 500.0]},
        "als": {"factors": [64], "regularization": [0.1], "alpha": [1.0, 5.0], "iterations": [15]},
    }


PROTOCOL_EVAL = ProtocolEvalConfig()


def benchmark_config(config: ProtocolEvalConfig) -> BenchmarkConfig:
    return replace(BenchmarkConfig(), tuning=TuningConfig(grids=config.grids))


def evaluate_protocols(
    events: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    out_dir: Path,
    seed: int,
    config: ProtocolEvalConfig = PROTOCOL_EVAL,
) -> dict[str, Any]:
    """Run every configured protocol; write ``quality.json`` and the figures into ``out_dir``."""
    data = restrict(from_events(events, items), config.max_users, config.max_items, seed)
    bench = benchmark_config(config)
    served = served_models(WorldTables(users, items, events), seed)
    runs = []
    for protocol in config.protocols:
        result = run_protocol(data, protocol, bench, seed=seed, models=served)
        result["figures"] = {k: str(p) for k, p in run_figures(result, out_dir, "quality").items()}
        runs.append(result)
    document = {
        "runs": runs,
        "data": {"users": data.n_users, "items": data.n_items, "interactions": len(data)},
        "config": config.model_dump(),
        "table": markdown_table(runs),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "quality.json").write_text(json.dumps(document, indent=1, default=str))
    return document

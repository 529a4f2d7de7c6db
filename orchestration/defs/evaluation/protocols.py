"""The protocol benchmark on the platform's own events, sized for the daily loop.

Same code as ``python -m bench.quality`` (``training.evaluation.benchmark``), with a bounded cut of
the data and no two-tower source (the two-tower model is evaluated through the served funnel by
``offline_evaluation``), so the asset costs tens of seconds, not the bench's minutes.
"""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from training.evaluation.benchmark import BenchmarkConfig, SideTables, run_protocol
from training.evaluation.config import TuningConfig
from training.evaluation.interactions import from_events, restrict
from training.evaluation.plots import run_figures
from training.evaluation.protocols import PROTOCOLS
from training.evaluation.summary import markdown_table


class ProtocolEvalConfig(BaseModel):
    """Bounds on the asset's cost: the cut of the data and the funnel's sources."""

    protocols: tuple[str, ...] = PROTOCOLS
    max_users: int = 2_000
    max_items: int = 2_000
    two_tower: bool = False
    max_ranker_epochs: int = 20
    # Smaller grids than the bench's (same models), around the values the bench picks on ml-100k.
    grids: dict[str, dict[str, list[Any]]] = {
        "popularity": {},
        "itemknn": {"neighbours": [100, 400], "shrink": [10.0]},
        "ease": {"l2": [100.0, 500.0]},
        "als": {"factors": [64], "regularization": [0.1], "alpha": [1.0, 5.0], "iterations": [15]},
    }


PROTOCOL_EVAL = ProtocolEvalConfig()


def benchmark_config(config: ProtocolEvalConfig) -> BenchmarkConfig:
    base = BenchmarkConfig()
    sources = tuple(s for s in base.funnel.sources if config.two_tower or s != "two_tower")
    funnel = replace(base.funnel, sources=sources, max_epochs=config.max_ranker_epochs)
    return replace(base, funnel=funnel, tuning=TuningConfig(grids=config.grids))


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
    side = SideTables(users, items) if config.two_tower else None
    bench = benchmark_config(config)
    runs = []
    for protocol in config.protocols:
        result = run_protocol(data, protocol, bench, seed=seed, side=side)
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

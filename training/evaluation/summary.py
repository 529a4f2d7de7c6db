"""Text forms of protocol runs: the Markdown table (README, asset metadata) and the results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from training.evaluation.protocols import PROTOCOLS

TABLE_METRICS = (
    "ndcg@10",
    "ndcg@20",
    "recall@10",
    "recall@20",
    "mrr@10",
    "coverage@10",
    "diversity@10",
    "novelty@10",
)
SLICE_METRICS = (("cold_users", "ndcg@10"), ("cold_items", "recall@20"))


def _interval(run: dict[str, Any], name: str) -> str:
    found = run.get("intervals", {}).get(name)
    if not found:
        return ""
    return f"{found['difference']:+.4f} [{found['low']:+.4f}, {found['high']:+.4f}] vs {found['against']}"


def markdown_table(runs: list[dict[str, Any]], metrics: tuple[str, ...] = TABLE_METRICS) -> str:
    """One row per (protocol, model), best NDCG@10 of each protocol in bold; models under test get
    their paired 95% interval of the NDCG@10 difference to the best baseline."""
    slices = [f"{s} {m}" for s, m in SLICE_METRICS]
    header = ["protocol", "model", *metrics, *slices, "NDCG@10 - best baseline [95% CI]"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run in runs:
        models = run["models"]
        best = max(models, key=lambda m: models[m]["ndcg@10"])
        for name, result in sorted(models.items(), key=lambda kv: -kv[1]["ndcg@10"]):
            cells = [f"{result[m]:.4f}" if m in result else "" for m in metrics]
            if name == best:
                cells[metrics.index("ndcg@10")] = f"**{cells[metrics.index('ndcg@10')]}**"
            for s, m in SLICE_METRICS:
                value = result.get(s, {}).get(m)
                cells.append(f"{value:.4f}" if value is not None else "n/a")
            cells.append(_interval(run, name))
            lines.append("| " + " | ".join([run["protocol"], name, *cells]) + " |")
    return "\n".join(lines)


def merge_runs(path: Path, runs: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """``{"runs": [...], **extra}`` written to ``path``; earlier runs of other protocols are kept."""
    previous = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    fresh = {r["protocol"] for r in runs}
    kept = [r for r in previous if r.get("protocol") not in fresh]
    order = {name: i for i, name in enumerate(PROTOCOLS)}
    merged = sorted([*kept, *runs], key=lambda r: order.get(r["protocol"], 99))
    document = {"runs": merged, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return document


def seed_rows(
    runs: list[dict[str, Any]], metric: str = "ndcg@10", model: str = "served"
) -> list[dict[str, Any]]:
    """Compact rows: per (seed, protocol), ``model`` against the best baseline on ``metric``, with
    the paired interval of the difference."""
    rows = []
    for run in runs:
        models = run["models"]
        names = run.get("baselines") or [m for m in models if m != model]
        baselines = {m: models[m][metric] for m in names if m in models}
        best = max(baselines, key=lambda m: baselines[m])
        interval = run.get("intervals", {}).get(model, {})
        rows.append(
            {
                "seed": run.get("seed"),
                "protocol": run["protocol"],
                model: models[model][metric],
                "best_baseline": best,
                "best_baseline_value": baselines[best],
                "margin": round(models[model][metric] - baselines[best], 5),
                "interval": [interval.get("low"), interval.get("high")],
                "baselines": baselines,
                "seconds": run.get("timing", {}).get("total"),
            }
        )
    return rows


def merge_seeds(path: Path, runs: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """The seeds file: ``seed_rows`` of every (seed, protocol) run so far, these runs replacing theirs."""
    previous = json.loads(path.read_text()) if path.exists() else {}
    rows = seed_rows(runs)
    fresh = {(r["seed"], r["protocol"]) for r in rows}
    kept = [r for r in previous.get("runs", []) if (r["seed"], r["protocol"]) not in fresh]
    order = {name: i for i, name in enumerate(PROTOCOLS)}
    merged = sorted([*kept, *rows], key=lambda r: (r["seed"], order.get(r["protocol"], 99)))
    meta = previous.get("by_seed", {}) | {str(r["seed"]): extra for r in rows}
    wins = sum(r["margin"] > 0 for r in merged)
    sure = sum((r.get("interval") or [None])[0] is not None and r["interval"][0] > 0 for r in merged)
    document = {
        "metric": "ndcg@10",
        "wins": f"{wins}/{len(merged)}",
        "wins_with_interval_above_zero": f"{sure}/{len(merged)}",
        "runs": merged,
        "by_seed": meta,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return document

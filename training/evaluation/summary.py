"""Text forms of protocol runs: the Markdown table (README, asset metadata) and the results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def markdown_table(runs: list[dict[str, Any]], metrics: tuple[str, ...] = TABLE_METRICS) -> str:
    """One row per (protocol, model), best NDCG@10 of each protocol in bold."""
    slices = [f"{s} {m}" for s, m in SLICE_METRICS]
    header = ["protocol", "model", *metrics, *slices]
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
            lines.append("| " + " | ".join([run["protocol"], name, *cells]) + " |")
    return "\n".join(lines)


def merge_runs(path: Path, runs: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """``{"runs": [...], **extra}`` written to ``path``; earlier runs of other protocols are kept."""
    previous = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    fresh = {r["protocol"] for r in runs}
    kept = [r for r in previous if r.get("protocol") not in fresh]
    order = {"stratified": 0, "random": 1, "temporal": 2}
    merged = sorted([*kept, *runs], key=lambda r: order.get(r["protocol"], 99))
    document = {"runs": merged, **extra}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return document

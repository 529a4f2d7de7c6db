"""Figures of a protocol run (matplotlib, Agg): metric vs K per model, and popularity bias.

Written as PNG files so the bench can keep them next to its JSON and the Dagster asset can point
its metadata at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

DPI = 110


def metric_vs_k(run: dict[str, Any], path: Path) -> Path:
    """NDCG@K and Recall@K curves, one line per model."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("ndcg", "recall"), strict=True):
        for name, result in run["models"].items():
            curve = result["curve"][metric]
            ks = [int(k) for k in curve]
            ax.plot(
                ks, list(curve.values()), marker="o", label=name, linewidth=2.5 if name == "served" else 1.2
            )
        ax.set_xlabel("K")
        ax.set_ylabel(f"{metric.upper()}@K")
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{run['protocol']} protocol: metric vs K")
    return _save(fig, path)


def popularity_bias(run: dict[str, Any], path: Path, key: str = "popularity_deciles@10") -> Path:
    """Share of each model's top-10 recommendations per item-popularity decile (1 = long tail)."""
    models = list(run["models"])
    deciles = np.array([run["models"][m][key] for m in models])
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(models), 1)
    x = np.arange(deciles.shape[1])
    for i, name in enumerate(models):
        ax.bar(x + i * width, deciles[i], width=width, label=name)
    ax.set_xticks(x + 0.4 - width / 2, [str(d + 1) for d in x])
    ax.set_xlabel("item popularity decile in train (1 = least popular, 10 = head)")
    ax.set_ylabel("share of top-10 recommendations")
    ax.legend(fontsize=8)
    ax.set_title(f"{run['protocol']} protocol: popularity bias")
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def run_figures(run: dict[str, Any], directory: Path, prefix: str) -> dict[str, Path]:
    """Both figures of one run as ``<prefix>_<protocol>_{k,popularity}.png`` in ``directory``."""
    stem = f"{prefix}_{run['protocol']}"
    return {
        "metric_vs_k": metric_vs_k(run, directory / f"{stem}_k.png"),
        "popularity_bias": popularity_bias(run, directory / f"{stem}_popularity.png"),
    }

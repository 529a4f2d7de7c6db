"""The light first stage for serving: NumPy weights and a manifest beside the full ranker.

No torch at scoring time: 1,000 rows x ~25 inputs is one small matrix-vector product, cheaper than
a call into any runtime. ``load_light_ranker`` refuses weights trained on another input contract,
as ``training.export.load_ranker`` does for the full model.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from contracts.features import RANKER_INPUTS
from contracts.schemas import SURFACES
from training.export import ManifestMismatchError
from training.models.ranking.light import LightRankerModel

WEIGHTS_FILE = "light_ranker.npz"
MANIFEST_FILE = "light_ranker_manifest.json"


def export_light_ranker(model: LightRankerModel, out_dir: str | Path, model_version: str) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / WEIGHTS_FILE, **model.to_arrays())
    manifest = {
        "model_version": model_version,
        "inputs": list(RANKER_INPUTS),
        "surfaces": list(SURFACES),
        "created_at": datetime.now(UTC).isoformat(),
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return out


class LightRanker:
    """Per-surface logistic scores for candidate rows built by ``contracts.features.ranker_inputs``."""

    def __init__(self, arrays: dict[str, np.ndarray], model_version: str) -> None:
        self.mean, self.std = arrays["mean"], arrays["std"]
        self.weight, self.bias = arrays["weight"], arrays["bias"]
        self.model_version = model_version
        if self.weight.shape != (len(SURFACES), len(RANKER_INPUTS)):
            raise ManifestMismatchError(f"light ranker weights have shape {self.weight.shape}")

    def score(self, x: np.ndarray, surface: str) -> np.ndarray:
        """Probabilities float32 [n]; raises on a wrong shape or non-finite input."""
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; expected one of {SURFACES}")
        rows = np.asarray(x, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != len(RANKER_INPUTS):
            raise ValueError(f"expected input of shape [n, {len(RANKER_INPUTS)}], got {list(rows.shape)}")
        if not np.isfinite(rows).all():
            raise ValueError("light ranker input contains NaN or inf")
        index = SURFACES.index(surface)
        logits = ((rows - self.mean) / self.std) @ self.weight[index] + self.bias[index]
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def load_light_ranker(out_dir: str | Path) -> LightRanker:
    path = Path(out_dir)
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    if manifest.get("inputs") != list(RANKER_INPUTS) or manifest.get("surfaces") != list(SURFACES):
        raise ManifestMismatchError(
            f"light ranker {manifest.get('model_version')!r} was trained on another input contract"
        )
    with np.load(path / WEIGHTS_FILE) as arrays:
        return LightRanker({name: arrays[name] for name in arrays.files}, str(manifest["model_version"]))


def keep_top(scores: np.ndarray, keep: int) -> np.ndarray:
    """Positions of the ``keep`` best scores, best first (all of them when there are fewer)."""
    if keep <= 0 or keep >= len(scores):
        return np.argsort(-scores, kind="stable")
    best = np.argpartition(-scores, keep - 1)[:keep]
    return best[np.argsort(-scores[best], kind="stable")]

"""Hand the ranker to serving: TorchScript weights plus a manifest of the input contract.

Serving loads ``ranker.pt`` without any training code. The manifest pins the exact input column
order and feature service the model was trained on; ``load_ranker`` refuses a model whose
manifest disagrees with the current ``contracts.features``, because silently feeding columns in
a different order produces confident garbage rather than an error.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from contracts.features import RANKER_INPUTS, RANKING_SERVICE
from contracts.schemas import SURFACES
from training.models.ranking.ranker import RankerBag, RankerModel, RankerNet

MODEL_FILE = "ranker.pt"
MANIFEST_FILE = "ranker_manifest.json"
log = logging.getLogger(__name__)


class ManifestMismatchError(RuntimeError):
    """The exported model was trained against a different feature contract than this code's."""


def export_ranker(
    model: RankerModel | RankerNet | RankerBag, out_dir: str | Path, model_version: str
) -> Path:
    """Write ``ranker.pt`` (TorchScript, CPU) and ``ranker_manifest.json``; returns ``out_dir``."""
    net = model.net if isinstance(model, RankerModel) else model
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scripted = torch.jit.script(copy.deepcopy(net).cpu().eval())
    torch.jit.save(scripted, str(out / MODEL_FILE))
    manifest = {
        "model_version": model_version,
        "inputs": list(RANKER_INPUTS),
        "feature_service": RANKING_SERVICE,
        "surfaces": list(SURFACES),
        "created_at": datetime.now(UTC).isoformat(),
        "torch_version": torch.__version__,
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return out


def check_manifest(manifest: dict[str, Any]) -> None:
    """Raise ``ManifestMismatchError`` unless the manifest matches this code's feature contract."""
    problems = []
    if list(manifest.get("inputs", [])) != list(RANKER_INPUTS):
        problems.append("inputs differ from contracts.features.RANKER_INPUTS")
    if manifest.get("feature_service") != RANKING_SERVICE:
        problems.append(f"feature_service {manifest.get('feature_service')!r} != {RANKING_SERVICE!r}")
    if list(manifest.get("surfaces", [])) != list(SURFACES):
        # Heads are indexed by surface position, so a reordered list would swap heads.
        problems.append("surfaces differ from contracts.schemas.SURFACES")
    if problems:
        raise ManifestMismatchError(f"model {manifest.get('model_version')!r}: " + "; ".join(problems))


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class LoadedRanker:
    """A scripted ranker on its device, scoring one surface's candidates per call."""

    def __init__(
        self,
        module: torch.jit.ScriptModule,
        manifest: dict[str, Any],
        device: torch.device,
        path: Path,
        on_cpu_fallback: Callable[[int], None] | None = None,
    ) -> None:
        self.module = module
        self.manifest = manifest
        self.device = device
        self.path = path
        self.on_cpu_fallback = on_cpu_fallback  # called with the row count (serving counts it)
        # The fallback copy always comes from disk: it never shares state with the device module.
        self._cpu_module: torch.jit.ScriptModule | None = None

    @property
    def model_version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def n_inputs(self) -> int:
        return len(self.manifest["inputs"])

    @staticmethod
    def _run(module: torch.jit.ScriptModule, x: np.ndarray, surface: int, device: torch.device) -> np.ndarray:
        with torch.inference_mode():
            xt = torch.from_numpy(x).to(device)
            st = torch.full((len(x),), surface, dtype=torch.long, device=device)
            return module(xt, st).float().cpu().numpy()

    def score(self, x: np.ndarray, surface: str) -> np.ndarray:
        """Probabilities float32 [n] for rows ``x`` [n, len(RANKER_INPUTS)] on ``surface``."""
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}; expected one of {SURFACES}")
        array = np.asarray(x, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != self.n_inputs:
            raise ValueError(f"expected input of shape [n, {self.n_inputs}], got {list(array.shape)}")
        if not np.isfinite(array).all():
            raise ValueError("ranker input contains NaN or inf; build rows with ranker_inputs()")
        if len(array) == 0:
            return np.zeros(0, dtype=np.float32)
        array = np.ascontiguousarray(array)
        index = SURFACES.index(surface)
        try:
            return self._run(self.module, array, index, self.device)
        except torch.cuda.OutOfMemoryError:
            # A huge candidate batch must not fail the request: score it on the CPU this once.
            log.warning("CUDA out of memory scoring %d rows; falling back to CPU for this call", len(array))
            torch.cuda.empty_cache()
            if self.on_cpu_fallback is not None:
                self.on_cpu_fallback(len(array))
            if self._cpu_module is None:
                self._cpu_module = torch.jit.load(str(self.path / MODEL_FILE), map_location="cpu").eval()
            return self._run(self._cpu_module, array, index, torch.device("cpu"))


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(out_dir) / MANIFEST_FILE).read_text())


def load_ranker(
    out_dir: str | Path, device: str = "auto", on_cpu_fallback: Callable[[int], None] | None = None
) -> LoadedRanker:
    """Load, validate against the current contract, move to CUDA when present, warm up."""
    path = Path(out_dir)
    manifest = read_manifest(path)
    check_manifest(manifest)
    target = _resolve_device(device)
    module = torch.jit.load(str(path / MODEL_FILE), map_location=target).eval()
    ranker = LoadedRanker(module, manifest, target, path, on_cpu_fallback)
    warmup = np.zeros((8, len(RANKER_INPUTS)), dtype=np.float32)
    for surface in SURFACES:  # first calls compile/profile the graph; pay that before traffic
        if not np.isfinite(ranker.score(warmup, surface)).all():
            raise ValueError(f"model {ranker.model_version!r} scores NaN or inf on warm-up ({surface})")
    return ranker

"""Train the two-tower model and embed every user and catalogue item: the retrieval artifacts.

Called by the candidate-generation Dagster assets with plain DataFrames. Items and users without
interactions are embedded too, from side features alone, so the FAISS index covers the whole
catalogue and a cold user still gets a profile-based query vector.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch

from training.config import RetrievalConfig
from training.data.features import RetrievalFeaturizer
from training.data.retrieval import RetrievalDataModule
from training.data.vocab import UNKNOWN_INDEX, IdVocab
from training.models.retrieval.two_tower import TwoTowerModel
from training.recommenders.threads import torch_threads
from training.trainer import make_trainer

ENCODE_BATCH = 8192
USER_EMBEDDINGS_FILE = "user_embeddings.npy"  # as of the training data (the cut): offline stages
SERVED_USER_EMBEDDINGS_FILE = "served_user_embeddings.npy"  # re-embedded with all events: serving


@dataclass
class RetrievalArtifacts:
    """Everything serving and the index build need from one retrieval training run."""

    model: TwoTowerModel
    featurizer: RetrievalFeaturizer
    user_ids: list[str]
    user_embeddings: np.ndarray
    item_ids: list[str]
    item_embeddings: np.ndarray
    train_seconds: float
    epochs: int
    steps: int = 0
    n_pairs: int = 0
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def user_vocab(self) -> IdVocab:
        return self.featurizer.user_vocab

    @property
    def item_vocab(self) -> IdVocab:
        return self.featurizer.item_vocab

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        torch.save(self.model.state_dict(), out / "two_tower.pt")
        (out / "two_tower.json").write_text(json.dumps(dict(self.model.hparams), indent=2))
        (out / "featurizer.json").write_text(json.dumps(self.featurizer.to_json()))
        self.user_vocab.save(out / "user_vocab.json")
        self.item_vocab.save(out / "item_vocab.json")
        np.save(out / USER_EMBEDDINGS_FILE, self.user_embeddings)
        np.save(out / "item_embeddings.npy", self.item_embeddings)
        (out / "user_ids.json").write_text(json.dumps(self.user_ids))
        (out / "item_ids.json").write_text(json.dumps(self.item_ids))
        meta = {
            "train_seconds": self.train_seconds,
            "epochs": self.epochs,
            "steps": self.steps,
            "n_pairs": self.n_pairs,
            "metrics": self.metrics,
        }
        (out / "meta.json").write_text(json.dumps(meta, indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> RetrievalArtifacts:
        src = Path(directory)
        model = TwoTowerModel(**json.loads((src / "two_tower.json").read_text()))
        model.load_state_dict(torch.load(src / "two_tower.pt", map_location="cpu", weights_only=True))
        model.eval()
        meta = json.loads((src / "meta.json").read_text())
        return cls(
            model=model,
            featurizer=RetrievalFeaturizer.from_json(json.loads((src / "featurizer.json").read_text())),
            user_ids=json.loads((src / "user_ids.json").read_text()),
            user_embeddings=np.load(src / USER_EMBEDDINGS_FILE),
            item_ids=json.loads((src / "item_ids.json").read_text()),
            item_embeddings=np.load(src / "item_embeddings.npy"),
            train_seconds=float(meta["train_seconds"]),
            epochs=int(meta["epochs"]),
            steps=int(meta.get("steps", 0)),
            n_pairs=int(meta.get("n_pairs", 0)),
            metrics={k: float(v) for k, v in meta.get("metrics", {}).items()},
        )


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def encode(model: TwoTowerModel, features: dict[str, torch.Tensor], tower: str) -> np.ndarray:
    """Run one tower in eval mode over all rows in chunks; float32 unit vectors [n, d]."""
    encoder = model.encode_users if tower == "user" else model.encode_items
    n = len(next(iter(features.values())))
    device = _device()
    was_training = model.training
    model.eval().to(device)
    chunks = []
    with torch.inference_mode():
        for start in range(0, n, ENCODE_BATCH):
            chunk = {k: v[start : start + ENCODE_BATCH].to(device) for k, v in features.items()}
            chunks.append(encoder(chunk).float().cpu())
    model.cpu().train(was_training)
    if not chunks:
        return np.zeros((0, int(model.hparams["embedding_dim"])), dtype=np.float32)
    return torch.cat(chunks).numpy().astype(np.float32, copy=False)


def train_retrieval(
    users: pd.DataFrame,
    items: pd.DataFrame,
    events: pd.DataFrame,
    config: RetrievalConfig | None = None,
    progress: bool = True,
) -> RetrievalArtifacts:
    """Fit the two-tower model on positive events and embed all users and catalogue items."""
    config = config or RetrievalConfig()
    with torch_threads(config.torch_threads):
        return _train(users, items, events, config, progress)


def _train(
    users: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, config: RetrievalConfig, progress: bool
) -> RetrievalArtifacts:
    started = time.perf_counter()
    pl.seed_everything(config.seed, workers=True, verbose=False)
    datamodule = RetrievalDataModule(users, items, events, config)
    datamodule.setup("fit")
    assert datamodule.featurizer is not None
    model = TwoTowerModel(**datamodule.model_kwargs())  # type: ignore[arg-type]
    steps_per_epoch = max(len(datamodule.train_dataloader()), 1)
    epochs = max(config.max_epochs, math.ceil(config.min_steps / steps_per_epoch))
    with tempfile.TemporaryDirectory(prefix="two_tower_") as tmp:
        trainer = make_trainer(max_epochs=epochs, max_steps=config.max_steps, progress=progress, root_dir=tmp)
        trainer.fit(model, datamodule=datamodule)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    featurizer = datamodule.featurizer
    model.cpu().eval()
    user_frame, item_frame = datamodule.users, datamodule.items
    return RetrievalArtifacts(
        model=model,
        featurizer=featurizer,
        user_ids=user_frame["user_id"].astype(str).tolist(),
        user_embeddings=encode(model, featurizer.users(user_frame, events), "user"),
        item_ids=item_frame["item_id"].astype(str).tolist(),
        item_embeddings=encode(model, featurizer.items(item_frame), "item"),
        train_seconds=time.perf_counter() - started,
        epochs=int(trainer.current_epoch),
        steps=int(trainer.global_step),
        n_pairs=datamodule.n_pairs,
        metrics=metrics,
    )


def embed_new_items(
    artifacts: RetrievalArtifacts, items: pd.DataFrame, side_features_only: bool = False
) -> np.ndarray:
    """Embed catalogue rows with the trained item tower, e.g. items added since training.

    Ids unknown to the vocabulary use the "unknown" id row, i.e. side features only (the path id
    dropout trained); ``side_features_only`` forces that for known ids too.
    """
    features = artifacts.featurizer.items(items.reset_index(drop=True))
    if side_features_only:
        features["item_idx"] = torch.full_like(features["item_idx"], UNKNOWN_INDEX)
    return encode(artifacts.model, features, "item")


def embed_users(
    artifacts: RetrievalArtifacts, users: pd.DataFrame, events: pd.DataFrame | None = None
) -> np.ndarray:
    """Query vectors for users from their profile and their positives in ``events`` (the recent
    items bag), e.g. new sign-ups (profile alone) or everyone re-embedded with newer history."""
    features = artifacts.featurizer.users(users.reset_index(drop=True), events)
    return encode(artifacts.model, features, "user")


def artifacts_summary(artifacts: RetrievalArtifacts) -> dict[str, Any]:
    """Small JSON-able description for asset metadata."""
    return {
        "n_users": len(artifacts.user_ids),
        "n_items": len(artifacts.item_ids),
        "dim": int(artifacts.item_embeddings.shape[1]) if artifacts.item_embeddings.ndim == 2 else 0,
        "n_pairs": artifacts.n_pairs,
        "epochs": artifacts.epochs,
        "steps": artifacts.steps,
        "train_seconds": round(artifacts.train_seconds, 2),
        **{k: round(v, 5) for k, v in artifacts.metrics.items()},
    }

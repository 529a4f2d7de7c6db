"""One Trainer recipe for every model: GPU when present, CPU otherwise, nothing written to the repo."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytorch_lightning as pl


def make_trainer(
    *,
    max_epochs: int,
    max_steps: int = -1,
    progress: bool = True,
    fast_dev_run: bool = False,
    root_dir: str | Path | None = None,
) -> pl.Trainer:
    """Trainer with checkpoints and loggers off; orchestration records metrics itself.

    ``root_dir`` should be a temporary directory: Lightning may still drop small files there.
    """
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*number of training batches.*smaller than the logging.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    if not progress:
        logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    return pl.Trainer(
        accelerator="auto",
        devices=1,
        max_epochs=max_epochs,
        max_steps=max_steps,
        fast_dev_run=fast_dev_run,
        enable_checkpointing=False,
        logger=False,
        enable_progress_bar=progress,
        enable_model_summary=progress,
        default_root_dir=str(root_dir) if root_dir is not None else None,
        log_every_n_steps=10,
        num_sanity_val_steps=0,
    )

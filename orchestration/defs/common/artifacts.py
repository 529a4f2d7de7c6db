"""Where each trained artifact lands before it is bundled (the staging area of the next version)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.settings import PlatformPaths


@dataclass(frozen=True)
class StagingArea:
    root: Path

    @property
    def retrieval(self) -> Path:
        return self.root / "retrieval"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def ranker(self) -> Path:
        return self.root / "ranker"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.json"

    @property
    def fallbacks(self) -> Path:
        return self.root / "fallbacks.json"

    @property
    def catalogue(self) -> Path:
        return self.root / "catalogue.parquet"

    @property
    def history(self) -> Path:
        return self.root / "history.parquet"


def staging(paths: PlatformPaths) -> StagingArea:
    area = StagingArea(paths.artifacts / "staging")
    area.root.mkdir(parents=True, exist_ok=True)
    return area

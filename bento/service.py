"""BentoML services: the Recommender entry point and the Ranker it depends on.

`bentoml serve bento.service:Recommender --port 3000` serves POST /recommend, /related and /events.
The Ranker declares a GPU and runs on the CPU where there is none.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import bentoml
import numpy as np
import torch
from bentoml.exceptions import InvalidArgument, NotFound

from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.pipeline import Funnel
from bento.ingestion.event_log import EventLog
from bento.ingestion.events import EventIngestor, UnknownItemError
from bento.surfaces import load_serving_config
from contracts.api import EventAck, EventIn, RecommendRequest, RecommendResponse, RelatedRequest
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.export import load_ranker

log = logging.getLogger(__name__)
BUNDLE_TAG = os.environ.get("RECO_BUNDLE_TAG", "reco_bundle:latest")
# One request scores ~1,000 rows: intra-op threads only contend with the other workers on a CPU.
SCORING_THREADS = int(os.environ.get("RECO_SCORING_THREADS", "1"))


@bentoml.service(resources={"gpu": 1}, traffic={"timeout": 10})
class Ranker:
    """Scores one request's candidates in a single batched call (CUDA if present, else CPU)."""

    bundle = bentoml.models.BentoModel(BUNDLE_TAG)

    def __init__(self) -> None:
        torch.set_num_threads(SCORING_THREADS)
        self.model = load_ranker(Path(self.bundle.path) / "ranker")

    @bentoml.api
    def score(self, features: np.ndarray, surface: str) -> np.ndarray:
        return self.model.score(features.astype(np.float32), surface)


@bentoml.service(traffic={"timeout": 10})
class Recommender:
    bundle = bentoml.models.BentoModel(BUNDLE_TAG)
    ranker = bentoml.depends(Ranker)

    def __init__(self) -> None:
        settings = load_settings()
        self.artifacts = ServingBundle.load(Path(self.bundle.path))
        self.features = OnlineFeatures(open_store(settings))
        self.funnel = Funnel(
            self.artifacts, self.features, self._score, load_serving_config(settings.surfaces_file)
        )
        self.ingestor = EventIngestor(
            EventLog(settings.paths.event_log), self.features, self.artifacts.catalogue
        )
        self._warm_item_cache()
        log.info("serving model %s", self.artifacts.model_version)

    def _warm_item_cache(self) -> None:
        """Read the hottest items' features before the first request instead of during it."""
        hot = dict.fromkeys(
            self.artifacts.lists.get("popular", []) + self.artifacts.lists.get("trending", [])
        )
        try:
            self.features.items(list(hot))
        except Exception:  # a cold cache is slower, not wrong
            log.exception("item feature warm-up failed")

    def _score(self, features: np.ndarray, surface: str) -> np.ndarray:
        return np.asarray(self.ranker.score(features=features, surface=surface))

    @bentoml.api(input_spec=RecommendRequest, route="/recommend")
    def recommend(self, **request: object) -> RecommendResponse:
        return self.funnel.recommend(RecommendRequest.model_validate(request))

    @bentoml.api(input_spec=RelatedRequest, route="/related")
    def related(self, **request: object) -> RecommendResponse:
        parsed = RelatedRequest.model_validate(request)
        if parsed.item_id not in self.artifacts.catalogue.index:
            raise NotFound(f"item_id {parsed.item_id!r} is not in the catalogue")
        return self.funnel.related(parsed)

    @bentoml.api(input_spec=EventIn, route="/events")
    def events(self, **event: object) -> EventAck:
        try:
            return self.ingestor.ingest(EventIn.model_validate(event))
        except UnknownItemError as error:
            raise InvalidArgument(str(error)) from error

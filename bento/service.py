"""BentoML services: the Recommender entry point and the Ranker it depends on.

`bentoml serve bento.service:Recommender --port 3000` serves POST /recommend, /related and /events.
The Ranker declares a GPU and runs on the CPU where there is none.
"""

from __future__ import annotations

import logging
import math
import os
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

import bentoml
import faiss
import numpy as np
import torch
from bentoml.exceptions import InvalidArgument, NotFound
from starlette.responses import JSONResponse

from bento.assembly import RANKER_DIR, assemble_funnel, catalogue_ids
from bento.auth.guard import CLIENT_HEADER, AccessGuard
from bento.catalogue.filter_store import FilterStore
from bento.catalogue.writes import CatalogueWriter
from bento.controls.desk import ControlsDesk
from bento.controls.endpoints import UserControlEndpoints
from bento.controls.store import UserControlStore
from bento.errors import UnknownItemError
from bento.http_guard import HttpGuard
from bento.ingestion.consumers import Consumer
from bento.ingestion.event_log import EventLog
from bento.ingestion.events import EventIngestor
from bento.ingestion.rate_limit import TokenBuckets
from bento.ingestion.session_updater import (
    filter_store_categories,
    session_consumer,
    start_in_background,
    wait_caught_up,
)
from bento.ingestion.settings import load_ingestion_config
from bento.item_refresh import watch_materializations
from bento.live_index import watch_live_index
from bento.observability.metrics import serving_metrics
from bento.privacy.forget import UserEraser
from bento.privacy.ledger import ErasureLedger, ledger_path
from bento.privacy.online import delete_online_user
from bento.shedding import Admission, LoadCounter, admission, refusal, request_load
from bento.worker_sync import LEADER_LOCK, Leadership, WorkerSync
from bento.worker_sync import start_in_background as sync_worker
from contracts.api import (
    BatchAck,
    EventAck,
    EventIn,
    ForgetReceipt,
    ForgetRequest,
    ItemAck,
    ItemIn,
    ItemRef,
    ItemUpdate,
    RecommendRequest,
    RecommendResponse,
    RelatedRequest,
)
from contracts.registry import BUNDLE_MODEL, production_tag
from contracts.settings import load_settings
from training.export import load_ranker

log = logging.getLogger(__name__)


def bundle_tag(environ: dict[str, str] | None = None) -> str:
    """``RECO_BUNDLE_TAG`` if set, else the production pointer under ``RECO_HOME``, else the newest
    bundle (a bento run outside its platform home). Read once at start-up: a promotion or rollback
    takes effect when the service restarts."""
    env = os.environ if environ is None else environ
    if override := env.get("RECO_BUNDLE_TAG"):
        return override
    home = load_settings(dict(env)).paths.home
    if (tag := production_tag(home)) is not None:
        return tag
    log.warning("no production pointer under %s; serving the newest %s", home, BUNDLE_MODEL)
    return f"{BUNDLE_MODEL}:latest"


BUNDLE_TAG = bundle_tag()
# One request scores ~1,000 rows: intra-op threads only contend with the other workers on a CPU.
SCORING_THREADS = int(os.environ.get("RECO_SCORING_THREADS", "1"))
# Recommender worker processes behind one port (default: one per core): one dying (OOM, SIGKILL)
# leaves the others serving while BentoML's arbiter restarts it. They share the event log, the
# filter store and the erasure ledger and follow each other's clicks and forgets
# (bento/worker_sync.py); each holds its own caches, last good pages and rate buckets.
RECOMMENDER_WORKERS = int(os.environ.get("RECO_RECOMMENDER_WORKERS", str(os.cpu_count() or 1)))
SETTLE_TIMEOUT_S = 2.0  # how long a forget waits for the session updater's in-flight batch
WORKER_SYNC_POLL_S = 0.25  # how soon a worker hears of the others' clicks and forgets
RELATED_SURFACE = "related_items"  # what /related serves, for its shedding priority and metrics


@bentoml.service(resources={"gpu": 1}, traffic={"timeout": 10})
class Ranker:
    """Scores one request's candidates in a single batched call (CUDA if present, else CPU)."""

    bundle = bentoml.models.BentoModel(BUNDLE_TAG)

    def __init__(self) -> None:
        torch.set_num_threads(SCORING_THREADS)
        # load_ranker refuses a manifest that disagrees with the feature contract, then warms every
        # surface head up (finite scores required) before the first request; CUDA OOM -> CPU retry.
        self.model = load_ranker(
            Path(self.bundle.path) / RANKER_DIR, on_cpu_fallback=serving_metrics().cpu_fallback
        )
        log.info("ranker %s loaded on %s", self.model.model_version, self.model.device)

    @bentoml.api
    def score(self, features: np.ndarray, surface: str) -> np.ndarray:
        return self.model.score(features.astype(np.float32), surface)


@bentoml.service(traffic={"timeout": 10}, workers=RECOMMENDER_WORKERS)
class Recommender(UserControlEndpoints):
    bundle = bentoml.models.BentoModel(BUNDLE_TAG)
    ranker = bentoml.depends(Ranker)

    def __init__(self) -> None:
        settings = load_settings()
        # Each user's blocks and opt-out, shared by every worker (bento/controls).
        self.user_controls = UserControlStore(settings.paths.user_controls)
        faiss.omp_set_num_threads(SCORING_THREADS)  # one query per request: threads only contend
        self.metrics = serving_metrics()  # the serving SLIs on /metrics (bento.observability)
        assembled = assemble_funnel(
            Path(self.bundle.path),
            settings,
            self._score,
            on_item_lookup=self.metrics.cache_lookup("item_features"),
            on_result_lookup=self.metrics.cache_lookup("results"),
            on_stage=self.metrics.stage,
            on_defaults=self.metrics.population_defaults,
            on_breaker=self.metrics.breaker,
            controls=self.user_controls.of,
            budgeted=True,  # a slow store or ranker costs a level of the fallback stack, not the deadline
        )
        self.artifacts, self.features, self.funnel = assembled.bundle, assembled.features, assembled.funnel
        store, serving = assembled.store, assembled.serving
        self.metrics.prime(serving.surfaces)
        self.metrics.serving_bundle(
            self.artifacts.model_version, self.bundle.info.creation_time, self.artifacts.features_as_of
        )
        self.filters = FilterStore(settings.paths.filter_store)
        self.filters.seed(self.artifacts.catalogue)
        self.artifacts.availability = self.filters.unavailable
        self.catalogue = CatalogueWriter(self.filters, self.artifacts, self.features, store)
        self.event_log = EventLog(settings.paths.event_log)
        self.ingestor = EventIngestor(
            self.event_log, self.artifacts.catalogue, on_user_events=self.funnel.note_events
        )
        self.ingestion = load_ingestion_config()
        self.session_consumer: Consumer | None = None  # in one worker at a time (bento/worker_sync.py)
        ledger = ErasureLedger(ledger_path(settings.paths.home))
        in_process = self.ingestion.session_updater.mode == "in_process"
        self.worker_sync = WorkerSync(
            self.event_log,
            ledger,
            on_events=self.funnel.note_events,
            on_forget=self._forget_here,
            leadership=Leadership(settings.paths.event_log / LEADER_LOCK) if in_process else None,
            on_lead=self._run_session_updater,
        )
        self.worker_sync.poll_once()  # the first worker up runs the session updater
        sync_worker(self.worker_sync, WORKER_SYNC_POLL_S)
        limits = self.ingestion.rate_limit
        self.buckets = TokenBuckets(rate_per_s=limits.events_per_second, burst=limits.burst)
        self.privacy = UserEraser(
            ledger,
            self.ingestor.log,
            store,
            self.artifacts,
            self.funnel.erase_user,
            settle_streaming=self._settle_session_updater,
            erase_controls=self.user_controls.forget,
        )
        self.controls = ControlsDesk(self.user_controls, self.funnel.forget_user)
        self.privacy.resume()
        self.live_index, _ = watch_live_index(
            self.artifacts, settings.paths.live_index, serving.live_index.check_interval_s
        )
        # Item features are loaded at assembly; reloaded when a materialization lands.
        self.item_refresh, _ = watch_materializations(
            self.features,
            lambda: catalogue_ids(self.artifacts, self.features),
            serving.caches.item_features.ttl_s,
        )
        log.info("serving model %s", self.artifacts.model_version)

    def _run_session_updater(self) -> None:
        updater = self.ingestion.session_updater
        self.session_consumer = session_consumer(
            self.event_log,
            self.features.own_connection(),
            filter_store_categories(self.filters),
            updater.batch_size,
            on_pushed=self.funnel.forget_user,
            on_lag=self.metrics.session_feature_lag,
        )
        start_in_background(self.session_consumer, updater.poll_interval_s)

    def _settle_session_updater(self) -> None:
        if self.session_consumer is not None:  # None: another worker or its own process runs it
            wait_caught_up(self.session_consumer, SETTLE_TIMEOUT_S)

    def _forget_here(self, user_id: str) -> None:
        """A forget another worker took: what this worker holds on the user goes. The worker running
        the session updater also lets its batch in flight land and deletes the user's online rows
        again, so a batch read before the log was erased cannot bring a session back."""
        self.artifacts.forget_user(user_id)
        self.funnel.erase_user(user_id)
        if self.session_consumer is not None:
            self._settle_session_updater()
            delete_online_user(self.features.store, user_id)

    def _score(self, features: np.ndarray, surface: str) -> np.ndarray:
        scores = np.asarray(self.ranker.score(features=features, surface=surface))
        self.metrics.scored(surface, features, scores)
        return scores

    @bentoml.api(input_spec=RecommendRequest, route="/recommend")
    def recommend(self, ctx: bentoml.Context, **request: object) -> RecommendResponse:
        parsed = RecommendRequest.model_validate(request)
        admitted = self._admission(ctx, parsed.surface)
        if not admitted.admitted:
            return self._refuse(ctx, parsed.surface, admitted)  # type: ignore[return-value]
        response = self.funnel.recommend(parsed, reduced=admitted.reduced)
        self.metrics.response(parsed.surface, "recommend", response)
        return response

    @bentoml.api(input_spec=RelatedRequest, route="/related")
    def related(self, ctx: bentoml.Context, **request: object) -> RecommendResponse:
        parsed = RelatedRequest.model_validate(request)
        admitted = self._admission(ctx, RELATED_SURFACE)
        if not admitted.admitted:
            return self._refuse(ctx, RELATED_SURFACE, admitted)  # type: ignore[return-value]
        if self.filters.get(parsed.item_id) is None:
            raise NotFound(f"item_id {parsed.item_id!r} is not in the catalogue")
        response = self.funnel.related(parsed)
        self.metrics.response(RELATED_SURFACE, "related", response)
        return response

    @bentoml.api(input_spec=EventIn, route="/events")
    def events(self, ctx: bentoml.Context, **event: object) -> EventAck:
        if (limited := self._rate_limited(ctx, cost=1)) is not None:
            return limited  # type: ignore[return-value]  # BentoML passes a Response through as is
        try:
            return self.ingestor.ingest(EventIn.model_validate(event))
        except UnknownItemError as error:
            raise InvalidArgument(str(error)) from error

    @bentoml.api(route="/events/batch")
    def events_batch(self, events: list[Any], ctx: bentoml.Context) -> BatchAck:
        """Up to `max_batch_size` events; each is accepted, a duplicate, or rejected with a reason."""
        if not events:
            raise InvalidArgument("events: the batch is empty")
        if len(events) > self.ingestion.max_batch_size:
            raise InvalidArgument(
                f"events: {len(events)} events exceed the batch limit of {self.ingestion.max_batch_size}"
            )
        if (limited := self._rate_limited(ctx, cost=len(events))) is not None:
            return limited  # type: ignore[return-value]
        return self.ingestor.ingest_batch(events)

    @bentoml.api(input_spec=ForgetRequest, route="/users/forget")
    def forget_user(self, **request: object) -> ForgetReceipt:
        """Erase a user now (event log, online features, caches, bundle state); the warehouse follows
        on the privacy asset's next run. Idempotent: an open request returns the same receipt."""
        return self.privacy.forget(ForgetRequest.model_validate(request).user_id)

    @bentoml.api(input_spec=ItemIn, route="/items")
    def put_item(self, **item: object) -> ItemAck:
        """Create an item, or replace all its attributes; servable on the next request."""
        return self.catalogue.upsert(ItemIn.model_validate(item))

    @bentoml.api(input_spec=ItemUpdate, route="/items/update")
    def update_item(self, **change: object) -> ItemAck:
        try:
            return self.catalogue.update(ItemUpdate.model_validate(change))
        except UnknownItemError as error:
            raise NotFound(str(error)) from error

    @bentoml.api(input_spec=ItemRef, route="/items/delete")
    def delete_item(self, **ref: object) -> ItemAck:
        try:
            return self.catalogue.delete(ItemRef.model_validate(ref).item_id)
        except UnknownItemError as error:
            raise NotFound(str(error)) from error

    def _admission(self, ctx: bentoml.Context, surface: str) -> Admission:
        config = self.funnel.config
        return admission(
            request_load(ctx.request.scope), config.surface(surface).shed_at, config.degradation.load
        )

    def _refuse(self, ctx: bentoml.Context, surface: str, admitted: Admission) -> JSONResponse:
        """Shed: a 503 with Retry-After (the status and header through ctx, as for a 429)."""
        load = self.funnel.config.degradation.load
        self.metrics.shed(surface)
        ctx.response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
        ctx.response.metadata["Retry-After"] = str(load.retry_after_s)
        return refusal(surface, admitted, load)

    def _rate_limited(self, ctx: bentoml.Context, cost: int) -> JSONResponse | None:
        headers = ctx.request.headers
        client = headers.get(CLIENT_HEADER) or (ctx.request.client.host if ctx.request.client else "unknown")
        decision = self.buckets.take(client, cost, time.monotonic())
        if decision.allowed:
            return None
        retry_after = str(max(1, math.ceil(decision.retry_after_s)))
        # With a Context parameter BentoML applies ctx.response's status and headers to any reply.
        ctx.response.status_code = HTTPStatus.TOO_MANY_REQUESTS
        ctx.response.metadata["Retry-After"] = retry_after
        return JSONResponse(
            {"error": f"rate limit exceeded for client {client!r}; retry after {retry_after} s"},
            status_code=HTTPStatus.TOO_MANY_REQUESTS,
        )


# Oversized bodies (413) and non-JSON content types (415) are refused before BentoML reads them.
Recommender.add_asgi_middleware(HttpGuard)
# Each worker's page requests in flight: the load that shrinks, then sheds, pages (bento/shedding.py).
Recommender.add_asgi_middleware(LoadCounter)
# Then API keys and roles (401/403), read rate limits (429) and the admin audit log: bento/auth/.
Recommender.add_asgi_middleware(AccessGuard)

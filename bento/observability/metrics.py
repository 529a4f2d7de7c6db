"""The service's serving SLIs on ``/metrics``: every Prometheus metric the service exports.

Latency per request and per funnel stage, responses per fallback level (and per level and reason
kind), the NaN rate of the full
ranker's inputs and scores, population defaults served, event-to-session-feature lag, and the age
of the serving model and of its batch features (as timestamps: age = ``time() - value``). The
alert sensor reads them by the names in ``contracts.slis``.

``prometheus_client`` is imported when the metrics are first built, inside the worker: BentoML
sets ``PROMETHEUS_MULTIPROC_DIR`` after the service module is imported, and a client imported
earlier would write to no file ``/metrics`` reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from contracts import slis
from contracts.api import RecommendResponse

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


BREAKER_VALUES = {"closed": 0.0, "half_open": 0.5, "open": 1.0}  # bento.funnel.feature_breaker states


class ServingMetrics:
    """The metric objects and what each request records into them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        from prometheus_client import REGISTRY, Counter, Gauge, Histogram

        reg = REGISTRY if registry is None else registry
        self.request_latency = Histogram(
            slis.REQUEST_LATENCY,
            "End-to-end funnel latency per response, by surface and endpoint (SLO: P99 < 200 ms).",
            ["surface", "endpoint"],
            buckets=REQUEST_BUCKETS,
            registry=reg,
        )
        self.stage_latency = Histogram(
            slis.STAGE_LATENCY,
            "Funnel stage latency per request (budgets: features 10 ms, retrieval 15, scoring 20, rerank 3).",
            ["stage", "surface"],
            buckets=STAGE_BUCKETS,
            registry=reg,
        )
        self.responses = Counter(
            slis.RESPONSES,
            "Recommendation responses by surface and fallback level (0 full ranking .. 4 global popular).",
            ["surface", "level"],
            registry=reg,
        )
        self.fallbacks = Counter(
            slis.FALLBACKS,
            "Responses by surface, fallback level and the kind of fault that put them there "
            "(reason 'none' at level 0: full health).",
            ["surface", "level", "reason"],
            registry=reg,
        )
        self.shed_requests = Counter(
            slis.SHED,
            "Page requests refused with a 503 under overload, by surface (notifications first).",
            ["surface"],
            registry=reg,
        )
        self.scores = Counter(slis.SCORES, "Candidates scored by the full ranker.", ["surface"], registry=reg)
        self.nan_scores = Counter(
            slis.NAN_SCORES, "Ranker scores that were NaN or infinite.", ["surface"], registry=reg
        )
        self.inputs = Counter(
            slis.RANKER_INPUTS, "Input values sent to the full ranker.", ["surface"], registry=reg
        )
        self.nan_inputs = Counter(
            slis.NAN_RANKER_INPUTS, "Ranker inputs that were NaN or infinite.", ["surface"], registry=reg
        )
        self.defaults = Counter(
            slis.DEFAULTS,
            "Requests served on population-default features because the online store failed, by entity.",
            ["entity"],
            registry=reg,
        )
        self.session_lag = Histogram(
            slis.SESSION_FEATURE_LAG,
            "Event timestamp to its push into the online session features (SLO: P95 < 10 s).",
            buckets=LAG_BUCKETS,
            registry=reg,
        )
        self.model_created = Gauge(
            slis.MODEL_CREATED,
            "When the serving model version was built (age = time() - value; SLO: < 48 h).",
            ["model_version"],
            multiprocess_mode="max",
            registry=reg,
        )
        self.features_as_of = Gauge(
            slis.FEATURES_AS_OF,
            "The batch feature snapshot the serving model's online features come from.",
            multiprocess_mode="max",
            registry=reg,
        )
        self.cache_lookups = Counter(
            slis.CACHE_LOOKUPS,
            "Cache lookups by cache and outcome; hit rate = hit / (hit + miss).",
            ["cache", "outcome"],
            registry=reg,
        )
        self.feature_breaker = Gauge(
            slis.FEATURE_BREAKER,
            "The feature-store circuit breaker per worker: 1 open (cached features only), 0.5 half-open "
            "(reads on trial), 0 closed.",
            multiprocess_mode="max",
            registry=reg,
        )
        self.cpu_fallbacks = Counter(
            slis.RANKER_CPU_FALLBACKS,
            "Scoring batches retried on the CPU after a CUDA out-of-memory error.",
            registry=reg,
        )

    def prime(self, surfaces: Iterable[str]) -> None:
        """Create every series at zero, so the first scrape already defines each rate."""
        for surface in surfaces:
            for level in slis.FALLBACK_LEVELS:
                self.responses.labels(surface=surface, level=level)
                for reason in slis.FALLBACK_REASONS:
                    self.fallbacks.labels(surface=surface, level=level, reason=reason)
            for counter in (self.scores, self.nan_scores, self.inputs, self.nan_inputs, self.shed_requests):
                counter.labels(surface=surface)
        for entity in ("user", "item"):
            self.defaults.labels(entity=entity)

    def breaker(self, state: str) -> None:
        self.feature_breaker.set(BREAKER_VALUES[state])

    def stage(self, stage: str, surface: str, seconds: float) -> None:
        self.stage_latency.labels(stage=stage, surface=surface).observe(seconds)

    def shed(self, surface: str) -> None:
        self.shed_requests.labels(surface=surface).inc()

    def response(self, surface: str, endpoint: str, response: RecommendResponse) -> None:
        meta = response.metadata
        self.request_latency.labels(surface=surface, endpoint=endpoint).observe(meta.latency_ms / 1000)
        level = str(meta.fallback_level)
        self.responses.labels(surface=surface, level=level).inc()
        reason = meta.fallback_kind if meta.fallback_kind in slis.FALLBACK_REASONS else slis.FUNNEL_ERROR
        self.fallbacks.labels(surface=surface, level=level, reason=reason).inc()

    def scored(self, surface: str, inputs: np.ndarray, scores: np.ndarray) -> None:
        """One full-ranker call: values in and scores out, and how many of each were not finite."""
        self.inputs.labels(surface=surface).inc(inputs.size)
        self.nan_inputs.labels(surface=surface).inc(int(inputs.size - np.isfinite(inputs).sum()))
        self.scores.labels(surface=surface).inc(scores.size)
        self.nan_scores.labels(surface=surface).inc(int(scores.size - np.isfinite(scores).sum()))

    def population_defaults(self, entity: str) -> None:
        self.defaults.labels(entity=entity).inc()

    def session_feature_lag(self, seconds: float) -> None:
        self.session_lag.observe(max(0.0, seconds))

    def serving_bundle(self, model_version: str, created_at: datetime, features_as_of: datetime) -> None:
        self.model_created.labels(model_version=model_version).set(created_at.timestamp())
        self.features_as_of.set(features_as_of.timestamp())

    def cache_lookup(self, cache: str) -> Callable[[bool, int], None]:
        """A hook counting lookups: one at a time, or a request's ``count`` in one increment."""
        hits = self.cache_lookups.labels(cache=cache, outcome="hit")
        misses = self.cache_lookups.labels(cache=cache, outcome="miss")

        def record(hit: bool, count: int = 1) -> None:
            if count:
                (hits if hit else misses).inc(count)

        return record

    def cpu_fallback(self, rows: int) -> None:
        self.cpu_fallbacks.inc()


@functools.cache
def serving_metrics() -> ServingMetrics:
    """The process's metrics on the default registry (built once: a name registers only once)."""
    return ServingMetrics()

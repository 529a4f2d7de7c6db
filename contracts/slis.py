"""Names of the serving SLIs on the service's ``/metrics``: one copy for the exporter and the reader.

The service (``bento.observability.metrics``) exports them; the alert sensor
(``orchestration.defs.alerting.metrics``) judges them. Counters carry their exported ``_total``
name here (prometheus_client adds the suffix back when it is stripped).
"""

from __future__ import annotations

REQUEST_LATENCY = "reco_request_latency_seconds"  # histogram: surface, endpoint
STAGE_LATENCY = "reco_stage_latency_seconds"  # histogram: stage, surface
RESPONSES = "reco_responses_total"  # counter: surface, level ("0".."4", the fallback stack)
FALLBACKS = "reco_fallback_responses_total"  # counter: surface, level, reason (a FALLBACK_REASONS kind)
SCORES = "reco_scores_total"  # counter: candidates scored by the full ranker, by surface
SHED = "reco_shed_requests_total"  # counter: page requests refused under overload (503), by surface
NAN_SCORES = "reco_nan_scores_total"  # counter: of which non-finite (the NaN guard refuses them)
RANKER_INPUTS = "reco_ranker_inputs_total"  # counter: input values sent to the full ranker
NAN_RANKER_INPUTS = "reco_nan_ranker_inputs_total"  # counter: of which non-finite
DEFAULTS = "reco_population_defaults_total"  # counter: requests served on population defaults, by entity
SESSION_FEATURE_LAG = "reco_session_feature_lag_seconds"  # histogram: event -> online session features
MODEL_CREATED = "reco_serving_model_created_timestamp_seconds"  # gauge: model_version
FEATURES_AS_OF = "reco_batch_features_timestamp_seconds"  # gauge: the batch snapshot served
FEATURE_BREAKER = "reco_feature_breaker_open"  # gauge: 1 open (cached features only), 0.5 half, 0 closed
CACHE_LOOKUPS = "reco_cache_lookups_total"  # counter: cache, outcome
RANKER_CPU_FALLBACKS = "reco_ranker_cpu_fallbacks_total"  # counter: CUDA OOM retried on the CPU

# Funnel stages timed per request, in order (``bento.observability.stages``).
STAGE_USER_FEATURES = "user_features"
STAGE_RETRIEVAL = "retrieval"
STAGE_CANDIDATE_FEATURES = "candidate_features"
STAGE_SCORING = "scoring"
STAGE_RERANK = "rerank"
STAGES = (STAGE_USER_FEATURES, STAGE_RETRIEVAL, STAGE_CANDIDATE_FEATURES, STAGE_SCORING, STAGE_RERANK)
FALLBACK_LEVELS = ("0", "1", "2", "3", "4")
# Why a response left level 0 (or, for "source_failed", answered at 0 without one of its sources):
# a bounded set of kinds, the `reason` label on /metrics; the free text is in the response.
REASON_NONE = "none"
FEATURE_STORE_DOWN = "feature_store_down"
FEATURE_STORE_SLOW = "feature_store_slow"  # an online read ran past its budget
RANKER_DOWN = "ranker_down"
RANKER_SLOW = "ranker_slow"  # the full ranker ran past its scoring budget
RANKER_INVALID = "ranker_invalid"  # NaN, out-of-range or misshapen scores
SOURCE_FAILED = "source_failed"
SOURCE_LATE = "source_late"  # a retrieval source ran past its budget: dropped, the others answered
# The feature-store circuit breaker is open: cached features only (a user not cached gets defaults)
FEATURE_BREAKER_OPEN = "feature_breaker_open"
PERSONALISATION_OFF = "personalisation_off"  # not a fault: the user turned personalisation off (L4)
NO_CANDIDATES = "no_candidates"
FUNNEL_ERROR = "funnel_error"  # anything else: the whole personalised path raised
FALLBACK_REASONS = (
    REASON_NONE,
    FEATURE_STORE_DOWN,
    FEATURE_STORE_SLOW,
    RANKER_DOWN,
    RANKER_SLOW,
    RANKER_INVALID,
    SOURCE_FAILED,
    SOURCE_LATE,
    FEATURE_BREAKER_OPEN,
    PERSONALISATION_OFF,
    NO_CANDIDATES,
    FUNNEL_ERROR,
)

"""The funnel's knobs, one typed tree read from ``config/funnel.yaml``.

Candidate counts, stage sizes, history windows, caches, cold start and the fallback lists are
read once and handed to everything that runs the funnel: the service (``bento.assembly``), the
offline replay and the ranker's training rows (``orchestration.defs.ranking``), the fallback
lists asset. A knob has one default, here; the YAML file overrides it; an unknown key is an error,
so a misspelt knob never silently keeps its default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

FUNNEL_FILE = Path(__file__).resolve().parent.parent / "config" / "funnel.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceCounts(_Strict):
    collaborative: int = Field(400, ge=0)
    session: int = Field(150, ge=0)
    trending: int = Field(150, ge=0)
    popular: int = Field(200, ge=0)
    new_arrivals: int = Field(50, ge=0)
    segment: int = Field(0, ge=0)  # popular in the user's segment; cold users get more (cold_start)
    content: int = Field(100, ge=0)  # content neighbours of the user's recent items
    co_interaction: int = Field(100, ge=0)  # items engaged together with the user's recent items
    item_knn: int = Field(300, ge=0)  # collaborative neighbours of the user's history
    ease: int = Field(300, ge=0)  # EASE item weights from the user's history
    als: int = Field(300, ge=0)  # ALS factors, the user's history folded in
    editorial: int = Field(20, ge=0)  # pinned by editors for this surface (config/editorial.yaml)


class RulesConfig(_Strict):
    max_per_category: int = Field(3, ge=1)
    category_window: int = Field(10, ge=1)
    max_sponsored: int = Field(1, ge=0)
    # Calibrated diversity (Steck, RecSys 2018): a category may also fill its share of the user's
    # own history in each window (a user whose history is 60% drama may see 6 dramas in 10), never
    # fewer than max_per_category. The cap then breaks up a narrow page without overruling a
    # narrow taste (MovieLens 100K stratified: the flat cap cost 0.017 NDCG@10, calibrated 0.006).
    calibrated: bool = True


class SurfaceConfig(_Strict):
    candidates: SourceCounts = Field(default_factory=SourceCounts)
    max_candidates: int = Field(1000, ge=1)
    # How many candidates the light first stage passes to the full ranker (0: all of them).
    full_rank: int = Field(200, ge=0)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    # Under overload (``degradation.load``), this surface's requests are refused with a 503 once
    # the worker's load passes this share of its capacity: the design's priority order sheds
    # notifications first (0.6), related items next (0.8), the home feed last (1.0).
    shed_at: float = Field(1.0, gt=0)


class HistoryConfig(_Strict):
    """How much of a user's past a request looks at."""

    history_items: int = Field(1000, ge=1)  # latest engagements that score the collaborative sources
    seed_items: int = Field(10, ge=1)  # the newest of those seed co-interaction and content
    # The live session's pull on the two-tower query (intent shift): 0 ignores it, 1 is all session.
    session_query_weight: float = Field(0.5, ge=0, le=1)
    # An index source looks up to this many times its count further for items the user may not
    # be shown (seen, out of stock), so a long history does not empty it.
    overfetch: int = Field(2, ge=0)


class CacheConfig(_Strict):
    capacity: int = Field(1000, ge=0)
    ttl_s: float = Field(60.0, ge=0)


class CachesConfig(_Strict):
    # Every item's features in process (rows held; how often a materialization is looked for):
    # config/funnel.yaml says more.
    item_features: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=50_000, ttl_s=300))
    results: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=10_000, ttl_s=60))


class ColdStartConfig(_Strict):
    # Interactions over which a user the model has not seen moves from popular/segment candidates
    # to personal ones (the design's 5-10).
    ramp_interactions: int = Field(8, ge=0)


class LiveIndexConfig(_Strict):
    # How often the service looks for an index the scheduled rebuild published (a pointer read).
    check_interval_s: float = Field(60.0, gt=0)


class FallbackListsConfig(_Strict):
    """Sizes of the pre-computed lists the fallback stack answers from (L3 segment, L4 global)."""

    global_size: int = Field(500, ge=1)
    segment_size: int = Field(200, ge=1)
    trending_size: int = Field(300, ge=1)
    new_arrivals_size: int = Field(100, ge=1)


class LoadConfig(_Strict):
    """Overload control (design part 10): first smaller pages of candidates, then refusals by
    surface priority. Load is a worker's requests in flight (queued or running) over ``capacity``."""

    capacity: int = Field(16, ge=1)
    # Past this share of capacity a page scores ``reduced_candidates``, before anything is refused.
    shrink_at: float = Field(0.5, gt=0)
    retry_after_s: int = Field(1, ge=1)  # the 503's Retry-After


class FeatureBreakerConfig(_Strict):
    """The feature-store circuit breaker (design part 9, slow dependency 1): when the online
    reads' p99 over the last ``window_s`` passes ``p99_ms``, requests use cached features only
    for ``open_s``; then reads are tried again and the breaker closes by itself once they are fast."""

    p99_ms: float = Field(20.0, gt=0)
    window_s: float = Field(60.0, gt=0)
    # Fewer reads than this in the window are no evidence (a quiet worker never trips).
    min_reads: int = Field(50, ge=1)
    open_s: float = Field(60.0, gt=0)
    # The last read of each user, served while the breaker is open (session features included:
    # stale for the minute the store is slow, instead of population defaults).
    user_cache: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=10_000, ttl_s=600))


class DegradationConfig(_Strict):
    """The fallback stack's budgets (design parts 9-10): a stage past its budget is cut off and the
    next level answers, so a slow dependency costs quality, never the page's deadline."""

    # The page's deadline (the latency SLO's P99): no budgeted call runs past it, whatever its
    # own budget; the stage budgets below must fit inside it.
    deadline_ms: float = Field(150.0, gt=0)
    # The design's stage budgets: one online read (the user's, or a request's items); each
    # retrieval source (they run in parallel; ``source_budgets_ms`` overrides one by name); the
    # full ranker's call; re-ranking (in process, never cut off: its time is a stage histogram).
    features_budget_ms: float = Field(10.0, gt=0)
    retrieval_budget_ms: float = Field(15.0, gt=0)
    source_budgets_ms: dict[str, float] = Field(default_factory=dict)
    scoring_budget_ms: float = Field(20.0, gt=0)
    rerank_budget_ms: float = Field(3.0, gt=0)
    # L1: candidates the light ranker orders when the full ranker cannot (design: 200, not 1,000).
    reduced_candidates: int = Field(200, ge=1)
    # L2: each user's last full-ranking page per surface, served while under an hour old.
    last_good_pages: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=100_000, ttl_s=3600))
    load: LoadConfig = Field(default_factory=LoadConfig)
    feature_breaker: FeatureBreakerConfig = Field(default_factory=FeatureBreakerConfig)

    def source_budget_ms(self, source: str) -> float:
        return self.source_budgets_ms.get(source, self.retrieval_budget_ms)

    @model_validator(mode="after")
    def _budgets_fit(self) -> DegradationConfig:
        retrieval = max([self.retrieval_budget_ms, *self.source_budgets_ms.values()])
        stages = 2 * self.features_budget_ms + retrieval + self.scoring_budget_ms + self.rerank_budget_ms
        if stages >= self.deadline_ms:
            raise ValueError(
                f"the stage budgets (two feature reads, retrieval, scoring, re-ranking: {stages:g} ms) "
                f"must fit inside deadline_ms ({self.deadline_ms:g})"
            )
        if any(budget <= 0 for budget in self.source_budgets_ms.values()):
            raise ValueError("source_budgets_ms values must be positive")
        return self


class RelatedConfig(_Strict):
    neighbours: int = Field(300, ge=1)  # per source, for the related-items surface


class FunnelConfig(_Strict):
    surfaces: dict[str, SurfaceConfig] = Field(default_factory=lambda: {"home_feed": SurfaceConfig()})
    related: RelatedConfig = Field(default_factory=RelatedConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    caches: CachesConfig = Field(default_factory=CachesConfig)
    cold_start: ColdStartConfig = Field(default_factory=ColdStartConfig)
    live_index: LiveIndexConfig = Field(default_factory=LiveIndexConfig)
    fallbacks: FallbackListsConfig = Field(default_factory=FallbackListsConfig)
    degradation: DegradationConfig = Field(default_factory=DegradationConfig)

    def surface(self, name: str) -> SurfaceConfig:
        """The named surface's settings; an unknown surface gets the home feed's."""
        return self.surfaces.get(name) or self.surfaces["home_feed"]


def _overlay(defaults: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` with ``override``'s keys on top, one level deep (a surface's own counts)."""
    merged = dict(defaults)
    for key, value in override.items():
        base = merged.get(key)
        merged[key] = {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
    return merged


def load_funnel_config(path: Path = FUNNEL_FILE) -> FunnelConfig:
    """The tree from ``path``: each surface is ``defaults`` overlaid with its own keys."""
    raw = dict(yaml.safe_load(path.read_text()) or {})
    defaults = raw.pop("defaults", None) or {}
    named = raw.pop("surfaces", None) or {}
    surfaces = {name: _overlay(defaults, override or {}) for name, override in named.items()}
    if "home_feed" not in surfaces:
        surfaces["home_feed"] = dict(defaults)
    return FunnelConfig.model_validate({"surfaces": surfaces, **raw})

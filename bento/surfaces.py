"""Surface configuration: how many candidates each source gives and which rules re-rank them."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from bento.funnel.rerank import RerankRules


class SourceCounts(BaseModel):
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


class RulesConfig(BaseModel):
    max_per_category: int = Field(3, ge=1)
    category_window: int = Field(10, ge=1)
    max_sponsored: int = Field(1, ge=0)

    def to_rules(self) -> RerankRules:
        return RerankRules(**self.model_dump())


class SurfaceConfig(BaseModel):
    candidates: SourceCounts = Field(default_factory=SourceCounts)
    max_candidates: int = Field(1000, ge=1)
    # How many candidates the light first stage passes to the full ranker (0: all of them).
    full_rank: int = Field(200, ge=0)
    rules: RulesConfig = Field(default_factory=RulesConfig)


class CacheConfig(BaseModel):
    capacity: int = Field(1000, ge=0)
    ttl_s: float = Field(60.0, ge=0)


class CachesConfig(BaseModel):
    # Defaults equal config/surfaces.yaml's (its comment says why 50,000): one value, not two.
    item_features: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=50_000, ttl_s=300))
    results: CacheConfig = Field(default_factory=lambda: CacheConfig(capacity=10_000, ttl_s=60))


class ColdStartConfig(BaseModel):
    # Interactions over which a user the model has not seen moves from popular/segment candidates
    # to personal ones (the design's 5-10).
    ramp_interactions: int = Field(8, ge=0)


class LiveIndexConfig(BaseModel):
    # How often the service looks for an index the scheduled rebuild published (a pointer read).
    check_interval_s: float = Field(60.0, gt=0)


class ServingConfig(BaseModel):
    surfaces: dict[str, SurfaceConfig]
    related_neighbours: int = 300
    caches: CachesConfig = Field(default_factory=CachesConfig)
    cold_start: ColdStartConfig = Field(default_factory=ColdStartConfig)
    live_index: LiveIndexConfig = Field(default_factory=LiveIndexConfig)

    def surface(self, name: str) -> SurfaceConfig:
        return self.surfaces.get(name) or self.surfaces["home_feed"]


def load_serving_config(path: Path) -> ServingConfig:
    """Each surface is the defaults overlaid with its own keys (one level deep)."""
    raw = yaml.safe_load(path.read_text()) or {}
    defaults = raw.get("defaults", {})
    surfaces = {}
    for name, override in (raw.get("surfaces") or {}).items():
        merged = {
            k: ({**v, **(override or {}).get(k, {})} if isinstance(v, dict) else (override or {}).get(k, v))
            for k, v in defaults.items()
        }
        surfaces[name] = SurfaceConfig.model_validate(merged)
    return ServingConfig(
        surfaces=surfaces,
        related_neighbours=(raw.get("related") or {}).get("neighbours", 300),
        caches=CachesConfig.model_validate(raw.get("caches") or {}),
        cold_start=ColdStartConfig.model_validate(raw.get("cold_start") or {}),
        live_index=LiveIndexConfig.model_validate(raw.get("live_index") or {}),
    )

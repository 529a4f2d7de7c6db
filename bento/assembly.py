"""Assembling the funnel from a bundle: one factory for the service and for offline evaluation.

The Recommender service and the quality evaluation both build their ``Funnel`` here, from the same
bundle files, the same Feast store and the same surface configuration, so a quality figure is a
figure of the page ``bentoml serve`` returns, not of a look-alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feast import FeatureStore

from bento.bundle import ServingBundle
from bento.caching import TTLCache
from bento.controls.store import UserControls
from bento.features import OnlineFeatures
from bento.funnel.pipeline import Funnel, ScoreFn
from bento.funnel.result import FunnelResult
from bento.observability.stages import StageSink
from contracts.funnel_config import FunnelConfig
from contracts.settings import PlatformSettings
from feature_repo.store import open_store
from training.candidates.trending import TRENDING_FILE
from training.export import LoadedRanker, load_ranker

log = logging.getLogger(__name__)
RANKER_DIR = "ranker"


@dataclass
class AssembledFunnel:
    bundle: ServingBundle
    store: FeatureStore
    features: OnlineFeatures
    serving: FunnelConfig
    funnel: Funnel


def assemble_funnel(
    bundle_root: Path,
    settings: PlatformSettings,
    score: ScoreFn,
    *,
    response_cache: bool = True,
    on_item_lookup: Callable[[bool, int], None] | None = None,
    on_result_lookup: Callable[[bool], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    on_stage: StageSink | None = None,
    on_defaults: Callable[[str], None] | None = None,
    on_breaker: Callable[[str], None] | None = None,
    controls: Callable[[str], UserControls] | None = None,
    budgeted: bool = False,
) -> AssembledFunnel:
    """The funnel over the bundle at ``bundle_root``, reading the platform's Feast store.

    ``score`` is the full ranker (the Ranker service's endpoint in serving, the same TorchScript
    module in process offline). ``response_cache`` off: every request runs the whole funnel.
    ``clock``: "now" for the funnel (wall time by default; a replay sets the data's end).
    ``on_stage`` / ``on_defaults`` / ``on_breaker``: the service's SLI hooks (stage timings,
    population defaults, the feature-store breaker's state). ``controls``: each user's blocks and
    opt-out (the service's ``UserControlStore.of``; none offline). ``budgeted``: cut the online reads,
    the retrieval sources and the full ranker off at their budgets and the page's deadline (the
    service; off offline, where a quality figure must not depend on the machine's load).
    """
    bundle = ServingBundle.load(
        bundle_root, live_trending_file=settings.paths.live_candidates / TRENDING_FILE
    )
    store = open_store(settings)
    serving = settings.funnel()
    items, results = serving.caches.item_features, serving.caches.results
    features = OnlineFeatures(
        store, items.ttl_s, items.capacity, on_item_lookup=on_item_lookup, on_defaults=on_defaults
    )
    load_item_table(features, bundle)
    cache: TTLCache[FunnelResult] | None = (
        TTLCache(results.capacity, results.ttl_s, on_lookup=on_result_lookup) if response_cache else None
    )
    funnel = Funnel(
        bundle,
        features,
        score,
        serving,
        results=cache,
        clock=clock,
        on_stage=on_stage,
        budgeted=budgeted,
        on_breaker=on_breaker,
        controls=controls,
    )
    return AssembledFunnel(bundle, store, features, serving, funnel)


def catalogue_ids(bundle: ServingBundle, features: OnlineFeatures) -> list[str]:
    """Every item the table should hold: the bundle's catalogue (with items written since) and
    any the table picked up on a request."""
    return list(dict.fromkeys([*bundle.catalogue.index.tolist(), *features.item_table.ids()]))


def load_item_table(features: OnlineFeatures, bundle: ServingBundle) -> None:
    """The catalogue's item features into memory before the first request; with the store down,
    requests read them through Feast instead (slower, not wrong)."""
    started = time.perf_counter()
    try:
        rows = features.load_items(catalogue_ids(bundle, features))
    except Exception:
        log.exception("item features not loaded; requests read them through Feast")
        return
    log.info("item features: %d rows loaded in %.1f s", rows, time.perf_counter() - started)


def load_bundle_ranker(bundle_root: Path) -> LoadedRanker:
    """The bundle's full ranker as the Ranker service loads it (manifest checked, warmed up)."""
    return load_ranker(bundle_root / RANKER_DIR)

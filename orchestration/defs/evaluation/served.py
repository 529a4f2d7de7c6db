"""The served funnel under an offline protocol: what `bentoml serve` would answer, measured.

For one protocol split, the platform is rebuilt from the training split alone: its events become a
world, the loop's own assets run on it (ingestion with its quality gates, Feast features, the
two-tower model and FAISS index, every retrieval source, the rankers and their gate) into a staged
bundle, and the same ``Funnel`` the service assembles (``bento.assembly``) is asked for each test
user's page. No evaluation-only model stands in for it. The bundle is not packaged as a bento
(that only copies the same files), so evaluation runs leave the platform's model store alone.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from bento.assembly import AssembledFunnel, assemble_funnel, load_bundle_ranker
from contracts.api import RecommendRequest
from contracts.funnel_config import FunnelConfig
from contracts.world.io import WorldTables, write_tables
from orchestration.defs.candidate_generation.source_tuning import tuned_sources
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.resources import PlatformResource
from training.evaluation.benchmark import ModelLists
from training.evaluation.interactions import Interactions
from training.evaluation.protocols import TIME_ORDERED, Split

SERVED = "served"  # the served funnel, ranker as the promotion gate left it
SERVED_RETRIEVAL_ORDER = "served_retrieval_order"  # the same bundle with the ranker switched off
# The same bundle, ranker as served, with the surface's diversity cap lifted: what the design's
# re-ranking rule (at most 3 of a category in 10) costs in NDCG against baselines that have none.
SERVED_WITHOUT_RULES = "served_without_rules"
SURFACE = "home_feed"
WORLD_MARKER = "protocol-split"  # the world's source path: the loop reuses the world written here


def training_world(world: WorldTables, data: Interactions, split: Split) -> WorldTables:
    """The world as the split's training part knows it: the evaluation's users and items, every
    event of a test (user, item) pair removed, and for time-ordered protocols every event of a test
    user after their first test interaction (impressions after it would leak what came next).

    Events in the same second as that first test interaction stay: a split orders ties by more
    than time, and the baselines train on them (on MovieLens 100K's temporal split, 1,075 of 80,000
    training ratings share a second with their user's first test rating; dropping them cost EASE
    0.013 NDCG@10)."""
    users, items, times = data.users[split.test], data.items[split.test], data.timestamp[split.test]
    events = world.events
    pair = events["user_id"].astype(str) + "\x1f" + events["item_id"].astype(str)
    test_pairs = set(
        np.char.add(np.char.add(data.user_ids[users].astype(str), "\x1f"), data.item_ids[items].astype(str))
    )
    keep = ~pair.isin(test_pairs).to_numpy()
    if split.protocol in TIME_ORDERED:
        first = pd.Series(times).groupby(data.user_ids[users].astype(str)).min()
        stamps = pd.to_datetime(events["timestamp"], utc=True)
        seconds = stamps.to_numpy("datetime64[us]").astype(np.int64) / 1e6
        limit = events["user_id"].astype(str).map(first).to_numpy(dtype=float)
        keep &= ~(seconds > np.nan_to_num(limit, nan=np.inf))
    # A restricted evaluation (items cut, users sampled) restricts the platform to the same cut.
    keep &= events["user_id"].astype(str).isin(set(data.user_ids.astype(str))).to_numpy()
    keep &= events["item_id"].astype(str).isin(set(data.item_ids.astype(str))).to_numpy()
    catalogue = world.items[world.items["item_id"].astype(str).isin(set(data.item_ids.astype(str)))]
    people = world.users[world.users["user_id"].astype(str).isin(set(data.user_ids.astype(str)))]
    return WorldTables(
        people.reset_index(drop=True), catalogue.reset_index(drop=True), events[keep].reset_index(drop=True)
    )


def evaluation_selection() -> dg.AssetSelection:
    """Everything the staged bundle needs, without the protocol evaluation itself or packaging."""
    from orchestration.defs.evaluation.assets import protocol_evaluation
    from orchestration.defs.serving.assets import staged_bundle

    return dg.AssetSelection.assets(staged_bundle).upstream() - dg.AssetSelection.assets(protocol_evaluation)


def build_staged_bundle(world: WorldTables, home: Path, seed: int) -> PlatformResource:
    """Write ``world`` under ``home`` and run the loop's assets on it, up to the staged bundle."""
    from orchestration.definitions import defs

    write_tables(
        home / "world", world.users, world.items, world.events, kind="interactions", source_path=WORLD_MARKER
    )
    platform = PlatformResource(
        home=str(home),
        source_kind="interactions",
        source_path=WORLD_MARKER,
        seed=seed,
        progress=False,
        judge_volume=False,  # the split's tail is thinned on purpose: every other gate applies
    )
    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
        selection=evaluation_selection(),
        # Every asset of the definitions is passed, so every resource is named; nothing is published.
        resources={"platform": platform, "artifacts": ArtifactStoreResource.from_env({})},
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        messages = [e.message for e in result.all_events if e.is_failure][:3]
        raise RuntimeError(f"the loop failed on the training split at {failed}: {messages}")
    return platform


def served_funnel(platform: PlatformResource) -> AssembledFunnel:
    """The staged bundle's funnel exactly as the service assembles it, asked at the data's end."""
    settings = platform.settings
    root = staging(settings.paths).root
    ranker = load_bundle_ranker(root)
    assembled = assemble_funnel(root, settings, ranker.score, response_cache=False)
    end = assembled.bundle.features_as_of
    assembled.funnel.clock = lambda: end
    return assembled


def pages(assembled: AssembledFunnel, user_ids: list[str], k: int) -> tuple[list[list[str]], list[int]]:
    """Each user's page of ``k`` (their ids) and the fallback level it was answered at."""
    lists, levels = [], []
    for user in user_ids:
        response = assembled.funnel.recommend(RecommendRequest(user_id=user, surface=SURFACE, page_size=k))
        lists.append([item.item_id for item in response.items])
        levels.append(response.metadata.fallback_level)
    return lists, levels


def without_diversity_cap(config: FunnelConfig) -> FunnelConfig:
    """``config`` with every surface's per-category cap lifted (the sponsored cap stays)."""
    surfaces = {
        name: surface.model_copy(
            update={
                "rules": surface.rules.model_copy(update={"max_per_category": surface.rules.category_window})
            }
        )
        for name, surface in config.surfaces.items()
    }
    return config.model_copy(update={"surfaces": surfaces})


def positions(lists: list[list[str]], item_ids: np.ndarray, k: int) -> np.ndarray:
    """Item-id lists -> [users, k] positions in the evaluation's item layout (-1: unknown or empty)."""
    index = pd.Index(item_ids)
    top = np.full((len(lists), k), -1, dtype=np.int64)
    for row, items in enumerate(lists):
        found = index.get_indexer(items[:k])
        top[row, : len(found)] = found
    return top


@dataclass
class ServedLists:
    tops: dict[str, np.ndarray]  # model name -> [users, k] positions
    report: dict[str, object]


@contextmanager
def scratch_home(parent: Path | None = None) -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="served-eval-", dir=parent))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def served_lists(
    world: WorldTables, split: Split, users: np.ndarray, k: int, seed: int, workdir: Path | None = None
) -> ServedLists:
    """Build the platform from ``split``'s training part and ask its funnel for ``users``' pages,
    with the ranker as served and with it off (retrieval order)."""
    started = time.perf_counter()
    with scratch_home(workdir) as home:
        platform = build_staged_bundle(training_world(world, split.data, split), home, seed)
        built = time.perf_counter()
        assembled = served_funnel(platform)
        ids = split.data.user_ids[users].astype(str).tolist()
        served, levels = pages(assembled, ids, k)
        ranker_enabled = assembled.bundle.ranker_enabled
        tuned = tuned_sources(platform.settings.paths)
        gate = json.loads((staging(platform.settings.paths).root / "bundle.json").read_text())["ranking"]
        assembled.bundle.ranker_enabled = False
        retrieval, _ = pages(assembled, ids, k)
        assembled.bundle.ranker_enabled = ranker_enabled
        assembled.funnel.config = without_diversity_cap(assembled.funnel.config)
        uncapped, _ = pages(assembled, ids, k)
        asked = time.perf_counter()
    tops = {
        SERVED: positions(served, split.data.item_ids, k),
        SERVED_RETRIEVAL_ORDER: positions(retrieval, split.data.item_ids, k),
        SERVED_WITHOUT_RULES: positions(uncapped, split.data.item_ids, k),
    }
    counts = np.bincount(np.asarray(levels, dtype=int), minlength=5)
    report = {
        "ranker_enabled": ranker_enabled,
        "ranker_gate": gate,  # what the promotion gate saw on the build's own holdouts
        "fallback_levels": {str(level): int(n) for level, n in enumerate(counts) if n},
        "build_seconds": round(built - started, 1),
        "request_seconds": round(asked - built, 1),
        "requests": 3 * len(ids),
        "retrieval_fusion": assembled.bundle.fusion_weights,  # None: equal weights
        "source_tuning": {"als": tuned.als.to_dict(), "ease": tuned.ease.to_dict()},
    }
    return ServedLists(tops, report)


def served_models(world: WorldTables, seed: int, workdir: Path | None = None) -> ModelLists:
    """The served funnel as ``run_protocol`` takes it: one platform build per protocol split."""

    def lists(split: Split, users: np.ndarray, k: int) -> tuple[dict[str, np.ndarray], dict[str, object]]:
        served = served_lists(world, split, users, k, seed, workdir)
        return served.tops, served.report

    return lists

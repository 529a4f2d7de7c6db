"""Failure injection, one test per fault, over the real tiny bundle and Feast store.

Each fault replaces one real dependency with a failing or slow one (the online store, the full
ranker, the index file, one retrieval source) and asserts a non-empty page, within the deadline
(the response's own latency against a generous multiple of the configured deadline, far below the
injected stall), at the expected level of the stack and with the expected reason kind.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.fallback import L0_FULL_RANKING, L1_LIGHT_RANKER, L2_LAST_GOOD_PAGE, L3_SEGMENT, L4_GLOBAL
from bento.funnel.pipeline import Funnel
from bento.observability.metrics import ServingMetrics
from contracts import slis
from contracts.api import RecommendRequest, RecommendResponse
from contracts.funnel_config import DegradationConfig, FunnelConfig
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.export import load_ranker
from training.index.faiss_index import INDEX_FILE

# Generous: a loaded 2-core machine may be slow, but never this slow; every stall injected below
# is far longer, so a page that waited on the faulty dependency could not pass.
DEADLINE_SLACK = 10
STALL_S = 60.0
# Where the store is not the fault under test, its reads get a wide budget: on a loaded machine a
# healthy read may pass the shipped 50 ms, and the test would see the store's level, not its own.
WIDE_READS = {
    "deadline_ms": 6000.0,
    "features_budget_ms": 1500.0,
    "retrieval_budget_ms": 1000.0,
    "scoring_budget_ms": 1000.0,
}


@pytest.fixture(scope="module")
def bundle(tiny_platform) -> ServingBundle:
    loaded = ServingBundle.load(load_settings().paths.artifacts / "staging")
    loaded.ranker_enabled = True  # the ranking levels are under test, whatever the tiny gate said
    assert loaded.light_ranker is not None, "the tiny world exports a light ranker"
    return loaded


@pytest.fixture(scope="module")
def features(tiny_platform, bundle: ServingBundle) -> OnlineFeatures:
    store = OnlineFeatures(open_store(load_settings()))
    store.user_or_defaults(some_user(bundle))  # Feast's first read loads its registry: not a fault
    return store


@pytest.fixture(scope="module")
def ranker(bundle: ServingBundle):
    return load_ranker(Path(bundle.root) / "ranker")


@pytest.fixture
def released() -> Iterator[threading.Event]:
    """Holds a stalled dependency until the test ends (no thread sleeps past the test run)."""
    event = threading.Event()
    yield event
    event.set()


def config(**stack: float) -> FunnelConfig:
    base = load_settings().funnel()
    return base.model_copy(
        update={"degradation": DegradationConfig(**{**base.degradation.model_dump(), **stack})}
    )


def some_user(bundle: ServingBundle) -> str:
    return sorted(bundle.history)[0]


def ask(funnel: Funnel, user: str, size: int = 10) -> RecommendResponse:
    reply = funnel.recommend(RecommendRequest(user_id=user, page_size=size))
    assert len(reply.items) == size, "never an empty slot"
    deadline_ms = funnel.config.degradation.deadline_ms
    assert reply.metadata.latency_ms < DEADLINE_SLACK * deadline_ms, reply.metadata
    return reply


class StoreDown:
    def get_online_features(self, **_: object):
        raise ConnectionError("online store unreachable")


class SlowStore:
    """The real store, 100 ms slower on every read."""

    def __init__(self, store) -> None:
        self.store, self.reads = store, 0

    def get_online_features(self, **kwargs: object):
        self.reads += 1
        time.sleep(0.1)
        return self.store.get_online_features(**kwargs)


class StalledSource:
    """The real item-kNN source whose candidate list hangs until the test ends."""

    def __init__(self, source, released: threading.Event) -> None:
        self.source, self.released = source, released

    def top(self, *_: object, **__: object) -> list[str]:
        self.released.wait(STALL_S)
        return []

    def __getattr__(self, name: str):
        return getattr(self.source, name)


class RaisingSource:
    """The real item-kNN source whose candidate list raises (its cross scores still answer)."""

    def __init__(self, source) -> None:
        self.source = source

    def top(self, *_: object, **__: object) -> list[str]:
        raise RuntimeError("item_knn matrix unreadable")

    def __getattr__(self, name: str):
        return getattr(self.source, name)


def test_feature_store_down_answers_from_the_light_ranker(bundle, features, ranker) -> None:
    down = OnlineFeatures(StoreDown())  # type: ignore[arg-type]
    down.item_table = features.item_table  # the process's table outlives the store
    reply = ask(
        Funnel(bundle, down, ranker.score, load_settings().funnel(), budgeted=True), some_user(bundle)
    )
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L1_LIGHT_RANKER, slis.FEATURE_STORE_DOWN)
    assert "online store unreachable" in (meta.fallback_reason or "")
    assert 0 < meta.candidates_scored <= load_settings().funnel().degradation.reduced_candidates


def test_feature_store_100ms_slower_per_read_stays_within_the_deadline(bundle, features, ranker) -> None:
    slow = OnlineFeatures(SlowStore(features.store))  # type: ignore[arg-type]
    funnel = Funnel(bundle, slow, ranker.score, load_settings().funnel(), budgeted=True)
    meta = ask(funnel, some_user(bundle)).metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L1_LIGHT_RANKER, slis.FEATURE_STORE_SLOW)
    assert "budget" in (meta.fallback_reason or "")


def test_ranker_down_answers_from_the_light_ranker_over_reduced_candidates(bundle, features) -> None:
    def down(x: np.ndarray, surface: str) -> np.ndarray:
        raise ConnectionError("ranker unavailable")

    reduced = 7
    funnel = Funnel(bundle, features, down, config(**WIDE_READS, reduced_candidates=reduced), budgeted=True)
    meta = ask(funnel, some_user(bundle), size=5).metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L1_LIGHT_RANKER, slis.RANKER_DOWN)
    assert meta.candidates_scored == reduced, "the light ranker's order over the reduced set"
    assert "ranker unavailable" in (meta.fallback_reason or "")


def test_ranker_past_its_budget_is_cut_off(bundle, features, released: threading.Event) -> None:
    def stalled(x: np.ndarray, surface: str) -> np.ndarray:
        released.wait(STALL_S)
        return np.full(len(x), 0.5, np.float32)

    # Reads get a wide budget here, so only the ranker can be the one past its budget.
    stack = config(**{**WIDE_READS, "scoring_budget_ms": 100.0})
    reply = ask(Funnel(bundle, features, stalled, stack, budgeted=True), some_user(bundle))
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L1_LIGHT_RANKER, slis.RANKER_SLOW)
    assert meta.latency_ms < STALL_S * 1000 / 10


def test_ranker_returning_nan_answers_from_the_light_ranker(bundle, features) -> None:
    def nan(x: np.ndarray, surface: str) -> np.ndarray:
        return np.full(len(x), np.nan, np.float32)

    reply = ask(Funnel(bundle, features, nan, config(**WIDE_READS), budgeted=True), some_user(bundle))
    assert (reply.metadata.fallback_level, reply.metadata.fallback_kind) == (
        L1_LIGHT_RANKER,
        slis.RANKER_INVALID,
    )
    assert all(np.isfinite(item.score) and 0 <= item.score <= 1 for item in reply.items)


def test_index_file_missing_serves_from_the_other_sources(bundle, features, ranker, tmp_path) -> None:
    root = tmp_path / "bundle"
    shutil.copytree(bundle.root, root)
    (root / "index" / INDEX_FILE).unlink()
    without = ServingBundle.load(root)  # loads, and says so, instead of refusing to start
    without.ranker_enabled = True
    assert without.index is None
    reply = ask(Funnel(without, features, ranker.score, load_settings().funnel()), some_user(bundle))
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L0_FULL_RANKING, slis.SOURCE_FAILED)
    assert "collaborative" in (meta.fallback_reason or "")


def test_one_source_raising_leaves_the_others_ranked(bundle, features, ranker) -> None:
    broken = ServingBundle(
        **{
            **vars(bundle),
            "sources": replace(bundle.sources, item_knn=RaisingSource(bundle.sources.item_knn)),
        }
    )
    reply = ask(Funnel(broken, features, ranker.score, load_settings().funnel()), some_user(bundle))
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L0_FULL_RANKING, slis.SOURCE_FAILED)
    assert "item_knn" in (meta.fallback_reason or "")
    assert meta.candidates_scored > 0


def test_a_source_past_its_budget_is_dropped_and_named(bundle, features, ranker, released) -> None:
    stalled = ServingBundle(
        **{
            **vars(bundle),
            "sources": replace(bundle.sources, item_knn=StalledSource(bundle.sources.item_knn, released)),
        }
    )
    stack = config(**WIDE_READS, source_budgets_ms={"item_knn": 100.0})
    reply = ask(Funnel(stalled, features, ranker.score, stack, budgeted=True), some_user(bundle))
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L0_FULL_RANKING, slis.SOURCE_LATE)
    assert "past their budget: item_knn" in (meta.fallback_reason or "")
    assert meta.candidates_scored > 0, "the other sources' candidates were ranked"
    assert meta.latency_ms < STALL_S * 1000 / 10


def test_a_slow_store_opens_the_breaker_then_requests_read_nothing_from_it(bundle, features, ranker) -> None:
    slow_store = SlowStore(features.store)
    slow = OnlineFeatures(slow_store)  # type: ignore[arg-type]
    slow.item_table = features.item_table
    base = config(**WIDE_READS)
    breaker = base.degradation.feature_breaker.model_copy(update={"min_reads": 3, "open_s": 600.0})
    stack = config(**WIDE_READS, feature_breaker=breaker)
    states: list[str] = []
    funnel = Funnel(bundle, slow, ranker.score, stack, budgeted=True, on_breaker=states.append)
    users = sorted(bundle.history)
    first = ask(funnel, users[0]).metadata  # 100 ms a read: in the wide budget, past the 20 ms p99
    assert first.fallback_level == L0_FULL_RANKING, first.fallback_reason
    for user in users[1:4]:  # three reads (user and items) make the minute's evidence
        if states:
            break
        ask(funnel, user)
    assert states == ["open"]
    reads = slow_store.reads
    known = ask(funnel, users[0]).metadata
    assert (known.fallback_level, known.fallback_kind) == (L0_FULL_RANKING, slis.FEATURE_BREAKER_OPEN)
    assert "circuit open" in (known.fallback_reason or "")
    stranger = ask(funnel, users[-1]).metadata
    assert (stranger.fallback_level, stranger.fallback_kind) == (L1_LIGHT_RANKER, slis.FEATURE_BREAKER_OPEN)
    assert slow_store.reads == reads, "while open, not one read reached the store"


def test_without_a_light_ranker_the_last_good_page_answers_then_the_lists(bundle, features, ranker) -> None:
    healthy = Funnel(bundle, features, ranker.score, load_settings().funnel())
    user = some_user(bundle)
    good = ask(healthy, user)
    assert good.metadata.fallback_level == L0_FULL_RANKING

    def down(x: np.ndarray, surface: str) -> np.ndarray:
        raise ConnectionError("ranker unavailable")

    no_light = ServingBundle(**{**vars(bundle), "light_ranker": None})
    broken = Funnel(no_light, features, down, load_settings().funnel())
    broken.last_good = healthy.last_good  # the same process, a moment later
    meta = ask(broken, user)
    assert (meta.metadata.fallback_level, meta.metadata.fallback_kind) == (
        L2_LAST_GOOD_PAGE,
        slis.RANKER_DOWN,
    )
    assert [i.item_id for i in meta.items] == [i.item_id for i in good.items], "the page ranked before"
    broken.erase_user(user)  # a forgotten user's last page goes with the rest of their state
    assert ask(broken, user).metadata.fallback_level in (L3_SEGMENT, L4_GLOBAL)


def test_levels_and_reasons_are_counted_on_metrics(bundle, features, ranker) -> None:
    registry = CollectorRegistry()
    metrics = ServingMetrics(registry)
    metrics.prime(["home_feed"])

    def down(x: np.ndarray, surface: str) -> np.ndarray:
        raise ConnectionError("ranker unavailable")

    user = some_user(bundle)
    for score in (ranker.score, down, down):
        reply = Funnel(bundle, features, score, load_settings().funnel()).recommend(
            RecommendRequest(user_id=user)
        )
        metrics.response("home_feed", "recommend", reply)
    counted = {
        (s.labels["level"], s.labels["reason"]): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
        if s.name == slis.FALLBACKS and s.labels["surface"] == "home_feed"
    }
    assert counted[("0", slis.REASON_NONE)] == 1
    assert counted[("1", slis.RANKER_DOWN)] == 2
    assert len(counted) == len(slis.FALLBACK_LEVELS) * len(slis.FALLBACK_REASONS), "bounded, primed at zero"

"""Which level answers given what failed (pure), and the time budget that detects "too slow"."""

from __future__ import annotations

import threading
import time

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest

from bento.funnel.budget import NO_DEADLINE, Budgets, Deadline, PastBudget
from bento.funnel.fallback import L0_FULL_RANKING, L1_LIGHT_RANKER, L2_LAST_GOOD_PAGE, Health, ranking_level
from contracts import slis
from contracts.funnel_config import DegradationConfig


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (Health(), (L0_FULL_RANKING, slis.REASON_NONE)),
        (Health(sources_failed=True), (L0_FULL_RANKING, slis.SOURCE_FAILED)),
        (Health(sources_late=True), (L0_FULL_RANKING, slis.SOURCE_LATE)),
        (Health(cached_features=True, sources_late=True), (L0_FULL_RANKING, slis.FEATURE_BREAKER_OPEN)),
        (Health(ranker=slis.RANKER_DOWN), (L1_LIGHT_RANKER, slis.RANKER_DOWN)),
        (Health(ranker=slis.RANKER_SLOW), (L1_LIGHT_RANKER, slis.RANKER_SLOW)),
        (Health(ranker=slis.RANKER_INVALID), (L1_LIGHT_RANKER, slis.RANKER_INVALID)),
        (Health(features=slis.FEATURE_STORE_DOWN), (L1_LIGHT_RANKER, slis.FEATURE_STORE_DOWN)),
        (Health(features=slis.FEATURE_STORE_SLOW), (L1_LIGHT_RANKER, slis.FEATURE_STORE_SLOW)),
        (Health(ranker=slis.RANKER_DOWN, light_ranker=False), (L2_LAST_GOOD_PAGE, slis.RANKER_DOWN)),
        (Health(candidates=False), (L2_LAST_GOOD_PAGE, slis.NO_CANDIDATES)),
    ],
)
def test_ranking_level(health: Health, expected: tuple[int, str]) -> None:
    level, kind = ranking_level(health)
    assert (level, kind) == expected
    assert kind in slis.FALLBACK_REASONS


def test_a_budgeted_call_is_abandoned_and_a_queued_one_skipped() -> None:
    budgets = Budgets(enforced=True, threads=1)
    release, ran = threading.Event(), []
    try:
        with pytest.raises(PastBudget):
            budgets.call("stalled", 20, release.wait, 60)
        with pytest.raises(TimeoutError):  # queued behind the straggler, then given up on
            budgets.call("queued", 20, ran.append, "ran")
    finally:
        release.set()
        budgets.close()
    assert ran == []
    assert Budgets(enforced=False).call("inline", 0.001, sum, [1, 2]) == 3, "offline: no budget"


def test_a_budgeted_call_from_an_anyio_worker_thread_can_still_reach_the_event_loop() -> None:
    """BentoML runs sync endpoints in AnyIO worker threads, and its sync client of the Ranker
    calls back into the loop: a call moved to a budget thread must keep that route."""
    budgets = Budgets(enforced=True)

    async def on_the_loop() -> str:
        await anyio.sleep(0)
        return "scored"

    def endpoint() -> str:
        return budgets.call("ranker", 5_000, anyio.from_thread.run, on_the_loop)

    async def serve() -> str:
        return await anyio.to_thread.run_sync(endpoint)

    try:
        assert anyio.run(serve) == "scored"
    finally:
        budgets.close()


def test_the_budgets_must_fit_inside_the_deadline() -> None:
    with pytest.raises(ValueError, match="deadline"):
        DegradationConfig(deadline_ms=100, features_budget_ms=40, scoring_budget_ms=50)


def test_a_deadline_cuts_every_budget_to_the_time_left() -> None:
    assert NO_DEADLINE.cap(20.0) == 20.0
    assert Deadline.after(1_000).cap(20.0) == 20.0, "plenty of time: the stage's own budget"
    assert 0 < Deadline.after(5).cap(20.0) <= 5.0
    assert Deadline(time.monotonic() - 1).cap(20.0) < 0
    budgets = Budgets(enforced=True)
    try:
        with pytest.raises(PastBudget, match="deadline"):
            budgets.call("full ranker", Deadline(time.monotonic() - 1).cap(20.0), sum, [1])
    finally:
        budgets.close()


def test_parallel_jobs_each_within_its_own_budget() -> None:
    budgets, release = Budgets(enforced=True), threading.Event()

    def broken() -> list[str]:
        raise RuntimeError("index unreadable")

    try:
        gathered = budgets.gather(
            {
                "fast": (1_000.0, lambda: ["a"]),
                "stalled": (50.0, lambda: [str(release.wait(60))]),
                "broken": (1_000.0, broken),
                "patient": (1_000.0, lambda: ["b"]),
            }
        )
    finally:
        release.set()
        budgets.close()
    assert gathered.answers == {"fast": ["a"], "patient": ["b"]}
    assert list(gathered.answers) == ["fast", "patient"], "in the jobs' order"
    assert gathered.late == ["stalled"] and gathered.failed == ["broken"]
    inline = Budgets(enforced=False).gather({"only": (0.001, lambda: ["c"]), "broken": (1.0, broken)})
    assert inline.answers == {"only": ["c"]} and inline.failed == ["broken"], "offline: no budget"

"""Time budgets for the funnel's calls to its dependencies (online store, retrieval sources,
full ranker), inside the page's deadline.

A call past its budget is abandoned, not awaited: the request moves on (without that source, or to
the next level of the fallback stack) while the straggler finishes on a small pool of threads, and
a call still queued when its budget ran out is skipped, so a hung dependency cannot pile work up
behind it. No budget reaches past the request's ``Deadline``. Offline (replay, quality evaluation)
budgets are off and calls run inline, so a figure never depends on how loaded the machine was.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from anyio._core._eventloop import threadlocals  # no public way to hand a thread's loop token on

T = TypeVar("T")
log = logging.getLogger(__name__)
BUDGET_THREADS = 8  # concurrent dependency calls per worker process; more queue (and time out)
SOURCE_THREADS = 16  # retrieval sources in flight per worker (several per request)


@dataclass(frozen=True)
class Deadline:
    """When the page is due (``time.monotonic``): every budget is cut to the time left."""

    due: float = math.inf

    @classmethod
    def after(cls, ms: float) -> Deadline:
        return cls(time.monotonic() + ms / 1000)

    def cap(self, budget_ms: float) -> float:
        """``budget_ms``, or less when the page is due sooner (0 or below: already past)."""
        return min(budget_ms, (self.due - time.monotonic()) * 1000)


NO_DEADLINE = Deadline()


@dataclass
class Gathered(Generic[T]):
    """Parallel jobs' answers in the jobs' order, and the names of those that raised or ran late."""

    answers: dict[str, T] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)


class PastBudget(TimeoutError):
    """A dependency call ran past its time budget."""


class Budgets:
    def __init__(self, enforced: bool, threads: int = BUDGET_THREADS, source_threads: int = SOURCE_THREADS):
        self.enforced = enforced
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="funnel-budget") if enforced else None
        self._sources = (
            ThreadPoolExecutor(source_threads, thread_name_prefix="funnel-source") if enforced else None
        )

    def call(self, what: str, budget_ms: float, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``, or ``PastBudget`` once ``budget_ms`` has passed (enforced budgets only)."""
        if self._pool is None:
            return fn(*args)
        if budget_ms <= 0:  # the page's deadline has passed: not even started
            raise PastBudget(f"{what} had no time left before the deadline")
        budget_s = budget_ms / 1000
        give_up = time.monotonic() + budget_s
        token = getattr(threadlocals, "current_token", None)

        def run() -> T:
            if time.monotonic() > give_up:  # waited in the queue past its budget: skip the work
                raise PastBudget(f"{what} was queued past its budget")
            if token is None:
                return fn(*args)
            # The caller is an AnyIO worker thread (a BentoML sync endpoint): hand its event-loop
            # token on, or BentoML's sync client of the Ranker cannot reach the loop from here.
            threadlocals.current_token = token
            try:
                return fn(*args)
            finally:
                del threadlocals.current_token

        future = self._pool.submit(run)
        try:
            return future.result(timeout=budget_s)
        except TimeoutError:
            future.cancel()
            raise PastBudget(f"{what} ran past its {budget_ms:g} ms budget") from None

    def gather(self, jobs: Mapping[str, tuple[float, Callable[[], T]]]) -> Gathered[T]:
        """Every job at once, each within its own budget in ms (enforced budgets; offline one
        after the other, unbounded). A job that raises is logged and named in ``failed``, one past
        its budget (or queued past it) in ``late``: the others' answers still count."""
        gathered: Gathered[T] = Gathered()
        if self._sources is None:
            for name, (_, job) in jobs.items():
                try:
                    gathered.answers[name] = job()
                except Exception:
                    log.exception("%s failed", name)
                    gathered.failed.append(name)
            return gathered
        started = time.monotonic()
        futures: dict[str, Future[T]] = {
            name: self._sources.submit(_unless_queued_past, name, started + budget_ms / 1000, job)
            for name, (budget_ms, job) in jobs.items()
        }
        for name, (budget_ms, _) in jobs.items():
            future = futures[name]
            try:
                gathered.answers[name] = future.result(
                    timeout=max(0.0, started + budget_ms / 1000 - time.monotonic())
                )
            except TimeoutError:  # past its budget (PastBudget, queued, is one too)
                future.cancel()
                gathered.late.append(name)
            except Exception:
                log.exception("%s failed", name)
                gathered.failed.append(name)
        return gathered

    def close(self) -> None:
        for pool in (self._pool, self._sources):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)


def _unless_queued_past(what: str, give_up: float, job: Callable[[], T]) -> T:
    if time.monotonic() > give_up:
        raise PastBudget(f"{what} was queued past its budget")
    return job()

"""Time budgets for the funnel's calls to its dependencies (online store, full ranker).

A call past its budget is abandoned, not awaited: the request moves on to the next level of the
fallback stack while the straggler finishes on a small pool of threads, and a call still queued
when its budget ran out is skipped, so a hung dependency cannot pile work up behind it. Offline
(replay, quality evaluation) budgets are off and calls run inline, so a figure never depends on
how loaded the machine was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from anyio._core._eventloop import threadlocals  # no public way to hand a thread's loop token on

T = TypeVar("T")
BUDGET_THREADS = 8  # concurrent dependency calls per worker process; more queue (and time out)


class PastBudget(TimeoutError):
    """A dependency call ran past its time budget."""


class Budgets:
    def __init__(self, enforced: bool, threads: int = BUDGET_THREADS) -> None:
        self.enforced = enforced
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="funnel-budget") if enforced else None

    def call(self, what: str, budget_ms: float, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)``, or ``PastBudget`` once ``budget_ms`` has passed (enforced budgets only)."""
        if self._pool is None:
            return fn(*args)
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

    def runner(self, what: str, budget_ms: float) -> Callable[..., T]:
        """``call`` with its budget bound: ``runner(...)(fn, *args)``."""
        return lambda fn, *args: self.call(what, budget_ms, fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

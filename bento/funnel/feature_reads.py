"""A request's online reads, guarded: under their budget and the page's deadline, timed for the
feature-store circuit breaker, and from cache alone while the breaker is open.

Offline (budgets not enforced) nothing is timed and the breaker never opens, so a quality figure
never depends on how loaded the machine was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from bento.caching import TTLCache
from bento.features import FeatureFault, OnlineFeatures, Runner, inline
from bento.funnel.budget import NO_DEADLINE, Budgets, Deadline
from bento.funnel.feature_breaker import LatencyBreaker
from bento.item_table import Columns
from contracts.features import SESSION_DEFAULTS, USER_DEFAULTS
from contracts.funnel_config import DegradationConfig
from contracts.slis import FEATURE_BREAKER_OPEN


class GuardedReads:
    def __init__(
        self,
        features: OnlineFeatures,
        budgets: Budgets,
        config: DegradationConfig,
        on_breaker: Callable[[str], None] | None = None,
    ) -> None:
        self.features, self.budgets, self.config = features, budgets, config
        self.breaker = LatencyBreaker(config.feature_breaker, on_change=on_breaker)
        cache = config.feature_breaker.user_cache
        self.users: TTLCache[dict[str, Any]] = TTLCache(cache.capacity, cache.ttl_s)

    @property
    def cached_only(self) -> bool:
        """The breaker is open: requests read nothing from the store."""
        return self.budgets.enforced and not self.breaker.allows_reads()

    def user(
        self, user_id: str, deadline: Deadline = NO_DEADLINE
    ) -> tuple[dict[str, Any], FeatureFault | None]:
        """The user's features; while the breaker is open, their last read (or the population
        defaults, with the breaker as the fault, for a user not read lately)."""
        if self.cached_only:
            kept = self.users.get(user_id)
            if kept is not None:
                return kept, None
            self.features.defaulted("user")
            fault = FeatureFault(FEATURE_BREAKER_OPEN, "user features: circuit open, none cached")
            return {**USER_DEFAULTS, **SESSION_DEFAULTS}, fault
        user, fault = self.features.user_or_defaults(user_id, self._timed(deadline))
        if fault is None and self.budgets.enforced:
            self.users.put(user_id, user)
        return user, fault

    def items(
        self, item_ids: Sequence[str], deadline: Deadline = NO_DEADLINE, cached_only: bool = False
    ) -> tuple[Columns, FeatureFault | None]:
        """The items' feature columns; items not held are read through the store unless
        ``cached_only`` or the breaker is open (then they get neutral missing values)."""
        return self.features.items_or_cached(
            item_ids, self._timed(deadline), cached_only=cached_only or self.cached_only
        )

    def _timed(self, deadline: Deadline) -> Runner:
        if not self.budgets.enforced:
            return inline
        budget = deadline.cap(self.config.features_budget_ms)

        def run(fn: Callable[..., Any], *args: object) -> Any:
            started = time.perf_counter()
            try:
                result = self.budgets.call("online read", budget, fn, *args)
            except Exception:
                self.breaker.record(math.inf)  # failed or past its budget: slow, whatever it took
                raise
            self.breaker.record((time.perf_counter() - started) * 1000)
            return result

        return run

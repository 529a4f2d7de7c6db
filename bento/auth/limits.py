"""Read rate limits: per client key and per user, so neither a scraper nor one hot user starves others.

The same token buckets as event ingestion (`bento/ingestion/rate_limit.py`), in memory per worker:
with N workers a caller can reach up to N times the configured rate (say so when sizing it). A key
may carry its own per-client limit (`keys create --reads-per-second`); it gets its own buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bento.ingestion.rate_limit import TokenBuckets
from bento.ingestion.settings import Bucket, ReadRateLimit


@dataclass(frozen=True)
class Throttle:
    """A refused read: who hit which limit, and when to come back (whole seconds, at least 1)."""

    scope: str  # "client" or "user"
    retry_after_s: int


class ReadLimiter:
    def __init__(self, limits: ReadRateLimit) -> None:
        self.limits = limits
        self._clients: dict[tuple[float, float], TokenBuckets] = {}
        self._users = _buckets(limits.per_user)

    def take(
        self, client: str, user: str | None, now: float, client_limit: Bucket | None = None
    ) -> Throttle | None:
        """Spend one read of ``client`` (and of ``user`` when the request names one) at ``now``;
        None when allowed. The client is checked first: a throttled client costs its users nothing."""
        limit = client_limit or self.limits.per_client
        clients = self._clients.setdefault((limit.per_second, limit.burst), _buckets(limit))
        decision = clients.take(client, 1, now)
        if not decision.allowed:
            return Throttle("client", _whole_seconds(decision.retry_after_s))
        if user is not None:
            decision = self._users.take(user, 1, now)
            if not decision.allowed:
                return Throttle("user", _whole_seconds(decision.retry_after_s))
        return None


def _buckets(limit: Bucket) -> TokenBuckets:
    return TokenBuckets(rate_per_s=limit.per_second, burst=limit.burst)


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))

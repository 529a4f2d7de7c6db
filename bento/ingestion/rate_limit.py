"""Per-client token buckets: a noisy client is slowed with 429s, the others are unaffected (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: float


@dataclass
class TokenBuckets:
    rate_per_s: float
    burst: float
    max_clients: int = 100_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # client -> (tokens, at)

    def take(self, client: str, cost: float, now: float) -> Decision:
        """Spend ``cost`` tokens of ``client`` at time ``now`` (seconds), or say when to retry."""
        if cost > self.burst:
            return Decision(False, cost / self.rate_per_s)  # could never fit: the caller must split
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
        if tokens >= cost:
            self._store(client, tokens - cost, now)
            return Decision(True, 0.0)
        self._store(client, tokens, now)
        return Decision(False, (cost - tokens) / self.rate_per_s)

    def _store(self, client: str, tokens: float, now: float) -> None:
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._buckets.pop(next(iter(self._buckets)))  # forget the oldest client, not the newest
        self._buckets[client] = (tokens, now)

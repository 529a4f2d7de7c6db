"""Token buckets: bursts up to the bucket size, then the sustained rate, per client."""

from bento.ingestion.rate_limit import TokenBuckets


def test_burst_then_refusal_with_retry_after() -> None:
    buckets = TokenBuckets(rate_per_s=10, burst=20)
    assert buckets.take("a", 20, now=0.0).allowed
    refused = buckets.take("a", 5, now=0.0)
    assert not refused.allowed
    assert refused.retry_after_s == 0.5


def test_tokens_refill_at_the_rate() -> None:
    buckets = TokenBuckets(rate_per_s=10, burst=20)
    buckets.take("a", 20, now=0.0)
    assert not buckets.take("a", 10, now=0.5).allowed
    assert buckets.take("a", 10, now=1.0).allowed


def test_clients_are_independent() -> None:
    buckets = TokenBuckets(rate_per_s=1, burst=5)
    assert buckets.take("noisy", 5, now=0.0).allowed
    assert not buckets.take("noisy", 1, now=0.0).allowed
    assert buckets.take("quiet", 1, now=0.0).allowed


def test_a_request_larger_than_the_bucket_is_never_allowed() -> None:
    buckets = TokenBuckets(rate_per_s=10, burst=20)
    assert not buckets.take("a", 21, now=100.0).allowed


def test_client_table_is_bounded() -> None:
    buckets = TokenBuckets(rate_per_s=1, burst=5, max_clients=3)
    for n in range(10):
        buckets.take(f"c{n}", 1, now=0.0)
    assert len(buckets._buckets) == 3

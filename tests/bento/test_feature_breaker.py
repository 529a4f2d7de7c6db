"""The feature-store circuit breaker's states, on a clock the test moves."""

from __future__ import annotations

import math

from bento.funnel.feature_breaker import CLOSED, HALF_OPEN, OPEN, LatencyBreaker
from contracts.funnel_config import FeatureBreakerConfig

CONFIG = FeatureBreakerConfig(p99_ms=20, window_s=60, min_reads=10, open_s=30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_when_the_p99_over_the_window_passes_the_threshold_and_closes_by_itself() -> None:
    clock, changes = Clock(), []
    breaker = LatencyBreaker(CONFIG, clock, on_change=changes.append)
    for _ in range(9):
        breaker.record(50.0)
    assert breaker.state == CLOSED, "fewer reads than min_reads are no evidence"
    breaker.record(50.0)
    assert breaker.state == OPEN and not breaker.allows_reads()
    breaker.record(1.0)  # a straggler from before it opened changes nothing
    clock.now += 29
    assert breaker.state == OPEN
    clock.now += 1
    assert breaker.state == HALF_OPEN and breaker.allows_reads(), "after open_s, reads on trial"
    for _ in range(10):
        breaker.record(2.0)
    assert breaker.state == CLOSED, "fast again: closed without anyone's help"
    assert changes == [OPEN, HALF_OPEN, CLOSED]


def test_a_slow_half_open_trial_opens_it_again_and_failures_count_as_slow() -> None:
    clock = Clock()
    breaker = LatencyBreaker(CONFIG, clock)
    for _ in range(10):
        breaker.record(math.inf)  # the store is down: reads fail
    assert breaker.state == OPEN
    clock.now += 30
    assert breaker.state == HALF_OPEN
    for _ in range(10):
        breaker.record(45.0)
    assert breaker.state == OPEN


def test_one_slow_read_in_a_hundred_fast_ones_is_not_a_slow_store() -> None:
    breaker = LatencyBreaker(CONFIG, Clock())
    for _ in range(99):
        breaker.record(3.0)
    breaker.record(400.0)
    assert breaker.state == CLOSED, "the p99 of 100 reads with one outlier stays fast"
    for _ in range(5):
        breaker.record(400.0)
    assert breaker.state == OPEN


def test_reads_older_than_the_window_are_forgotten() -> None:
    clock = Clock()
    breaker = LatencyBreaker(CONFIG, clock)
    for _ in range(9):
        breaker.record(90.0)
    clock.now += 61
    breaker.record(90.0)
    assert breaker.state == CLOSED, "nine of the ten slow reads fell out of the minute"

"""Paired bootstrap: the interval brackets the true difference and tells a real lead from noise."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation.bootstrap import paired_interval, per_user_ndcg
from training.evaluation.metrics import accuracy_metrics


def test_per_user_ndcg_averages_to_the_metric_table() -> None:
    rng = np.random.default_rng(0)
    hits = rng.random((50, 20)) < 0.15
    n_rel = rng.integers(1, 6, size=50)
    table = accuracy_metrics(hits, n_rel, (10,), 10)
    assert per_user_ndcg(hits, n_rel, 10).mean() == pytest.approx(table["ndcg@10"])


def test_a_real_lead_has_its_lower_end_above_zero_and_noise_does_not() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(800)
    better = base + 0.05 + rng.normal(0, 0.05, 800)
    lead = paired_interval(better, base, seed=0)
    assert lead["low"] > 0 and lead["low"] < 0.05 < lead["high"]
    noise = paired_interval(base + rng.normal(0, 0.05, 800), base, seed=0)
    assert noise["low"] < 0 < noise["high"]


def test_unpaired_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="paired"):
        paired_interval(np.zeros(3), np.zeros(4))

"""Cold start staging: budget moves from popular/segment to personal sources, gradually."""

from __future__ import annotations

from itertools import pairwise

import pytest

from bento.funnel.cold_start import cold_start_counts, personal_share

COUNTS = {
    "collaborative": 400,
    "session": 150,
    "trending": 150,
    "popular": 200,
    "segment": 0,
    "new_arrivals": 50,
}


def test_a_brand_new_user_gets_no_personal_candidates_and_keeps_the_total() -> None:
    mix = cold_start_counts(COUNTS, personal_share(0, known_to_model=False, ramp=8))
    assert mix.personal_share == 0.0
    assert mix.counts["collaborative"] == 0 and mix.counts["session"] == 0
    assert mix.counts["popular"] + mix.counts["segment"] == 200 + 550
    assert sum(mix.counts.values()) == sum(COUNTS.values())


def test_the_personal_share_grows_without_a_jump() -> None:
    steps = [cold_start_counts(COUNTS, personal_share(n, False, ramp=8)).counts for n in range(0, 11)]
    collaborative = [s["collaborative"] for s in steps]
    assert collaborative == sorted(collaborative) and collaborative[-1] == 400
    assert max(b - a for a, b in pairwise(collaborative)) <= 400 / 8 + 1
    assert steps[8] == {**COUNTS}, "warm after the ramp: exactly the configured counts"


def test_a_user_the_model_knows_is_warm_at_once() -> None:
    assert personal_share(0, known_to_model=True, ramp=8) == 1.0
    assert cold_start_counts(COUNTS, 1.0).counts == COUNTS


def test_share_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        cold_start_counts(COUNTS, 1.5)

"""Retrieval order: standardised scores fused with per-signal weights (bento.funnel.fusion)."""

from __future__ import annotations

import json

import numpy as np

from bento.funnel.candidates import fused_retrieval_score
from bento.funnel.fusion import FUSED_SIGNALS, FUSION_FILE, fuse, load_fusion_weights, standardised


def test_signals_are_standardised_per_request_and_constant_ones_have_no_say() -> None:
    rng = np.random.default_rng(3)
    signals = np.column_stack([rng.integers(0, 5, 40), rng.normal(size=40) * 7 + 3, np.full(40, 2.0)])
    z = standardised(signals.astype(float))
    for j in range(2):
        expected = (signals[:, j] - signals[:, j].mean()) / signals[:, j].std()
        np.testing.assert_allclose(z[:, j], expected)
    assert np.isnan(z[:, 2]).all(), "a signal that scores nothing has no say"
    assert np.isnan(standardised(np.ones((1, 3)))).all(), "one candidate: nothing to compare"


def test_how_far_a_candidate_stands_out_counts_not_only_its_rank() -> None:
    far_ahead = np.array([10.0, 1.0, 0.0, 0.0, 0.0, 0.0])  # candidate 0 leads it by far
    close = np.array([0.9, 1.0, 0.0, 0.0, 0.0, 0.0])  # candidate 1 leads it by a hair
    fused = fuse([far_ahead, close])
    assert np.argmax(fused) == 0, "a rank share would tie candidates 0 and 1"
    assert ((fused > 0) & (fused < 1)).all(), "the API's score range"


def test_weights_choose_whose_order_counts() -> None:
    up, down = np.arange(6.0), -np.arange(6.0)
    assert np.argmax(fuse([up, down], [1.0, 0.0])) == 5
    assert np.argmax(fuse([up, down], [0.0, 1.0])) == 0
    leaning = fuse([up, down], [2.0, 1.0])
    assert np.all(np.diff(leaning) > 0), "the heavier signal sets the order"
    np.testing.assert_allclose(fuse([up, down]), fused_retrieval_score([up, down]))


def test_a_bundle_reads_its_tuned_weights_or_none(tmp_path) -> None:
    assert load_fusion_weights(tmp_path) is None
    (tmp_path / FUSION_FILE).write_text(json.dumps({"weights": {FUSED_SIGNALS[2]: 2.0}}))
    weights = load_fusion_weights(tmp_path)
    assert weights == {name: (2.0 if name == FUSED_SIGNALS[2] else 0.0) for name in FUSED_SIGNALS}

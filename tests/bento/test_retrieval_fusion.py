"""Retrieval order: rank shares fused with per-signal weights (bento.funnel.fusion)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bento.funnel.candidates import fused_retrieval_score
from bento.funnel.fusion import FUSED_SIGNALS, FUSION_FILE, fuse, load_fusion_weights, rank_shares


def test_rank_shares_average_ties_like_pandas_and_mark_constant_signals() -> None:
    rng = np.random.default_rng(3)
    signals = np.column_stack([rng.integers(0, 5, 40), rng.normal(size=40), np.full(40, 2.0)])
    shares = rank_shares(signals.astype(float))
    for j in range(2):
        expected = (pd.Series(signals[:, j]).rank(method="average") - 1) / 39
        np.testing.assert_allclose(shares[:, j], expected.to_numpy())
    assert np.isnan(shares[:, 2]).all(), "a signal that scores nothing has no say"


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

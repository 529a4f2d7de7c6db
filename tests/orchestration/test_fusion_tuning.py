"""Choosing the retrieval order's weights on replayed lists (ranking.fusion_tuning)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bento.funnel.fusion import FUSED_SIGNALS, load_fusion_weights
from orchestration.defs.ranking.fusion_tuning import FusionTuner, list_ndcg, weight_grid


def test_the_grid_starts_at_equal_weights_and_holds_each_direction_once() -> None:
    grid = weight_grid(4)
    assert grid[:, 0].tolist() == [1.0] * 4
    directions = {tuple(np.round(c / c.sum(), 9)) for c in grid.T}
    assert len(directions) == grid.shape[1]
    assert (grid.sum(axis=0) > 0).all()
    assert any((c == [0, 0, 1, 0]).all() for c in grid.T), "a single signal alone is an option"


def test_list_ndcg_scores_each_order() -> None:
    positive = np.array([False, True, False, False])
    scores = np.column_stack([[4.0, 3.0, 2.0, 1.0], [1.0, 4.0, 3.0, 2.0]])
    np.testing.assert_allclose(list_ndcg(scores, positive, k=2), [1 / np.log2(3), 1.0])
    assert list_ndcg(scores, np.zeros(4, bool), k=2).tolist() == [0.0, 0.0]


def _lists(
    informative: int, seed: int, n_lists: int = 60, n: int = 80
) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_lists):
        signals = rng.normal(size=(n, len(FUSED_SIGNALS)))
        positive = np.zeros(n, bool)
        positive[np.argsort(-signals[:, informative])[:3]] = True  # only this signal knows
        out.append((signals, positive))
    return out


def test_the_tuner_weighs_the_signal_that_finds_the_held_out_items() -> None:
    tuner = FusionTuner(k=10)
    for signals, positive in _lists(informative=2, seed=0):
        tuner.observe(signals, positive)
    choice = tuner.choice()
    weights = choice.weights
    assert weights[FUSED_SIGNALS[2]] > 0
    assert all(weights[name] == 0 for i, name in enumerate(FUSED_SIGNALS) if i != 2)
    assert choice.ndcg > choice.equal_ndcg and choice.lists == 60


def test_no_evidence_keeps_equal_weights() -> None:
    tuner = FusionTuner()
    tuner.observe(np.ones((5, 4)), np.array([True, False, False, False, False]))  # all ties
    assert tuner.choice().weights == dict.fromkeys(FUSED_SIGNALS, 1.0)
    assert FusionTuner().choice().lists == 0


def test_recording_observes_the_lists_it_passes_on_and_the_choice_round_trips(tmp_path) -> None:
    (signals, positive), *_ = _lists(informative=1, seed=1, n_lists=1)
    cands = pd.DataFrame(signals, columns=list(FUSED_SIGNALS)).assign(
        item_id=[f"i{k}" for k in range(len(signals))]
    )
    tuner = FusionTuner()
    liked = {"u1": set(cands["item_id"][positive])}
    candidates = tuner.recording(lambda user: cands, liked)
    assert candidates("u1") is cands and candidates("u2") is cands
    assert tuner.lists == 1, "a user with no positives teaches nothing"
    tuner.choice().save(tmp_path)
    assert load_fusion_weights(tmp_path) == tuner.choice().weights

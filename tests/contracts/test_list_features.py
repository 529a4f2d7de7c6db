"""List-relative ranker inputs: per list, and the same in one call as in one call per list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.features import RANKER_INPUTS, ranker_inputs
from contracts.list_features import LIST_INPUTS, LIST_SCORES, list_relative


def _scores(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=n) for name in LIST_SCORES}


def test_rank_counts_the_candidates_strictly_above_and_ties_share_it() -> None:
    scores = dict.fromkeys(LIST_SCORES, np.array([3.0, 1.0, 2.0, 2.0, 5.0, 0.0]))
    groups = np.array([0, 0, 0, 0, 1, 1])
    z, log_rank = list_relative(scores, groups)[:2]
    np.testing.assert_allclose(np.expm1(log_rank), [0, 3, 1, 1, 0, 1])
    assert z[0] > z[2] == z[3] > z[1] and z[4] > 0 > z[5]


def test_a_constant_score_is_neutral() -> None:
    scores = dict.fromkeys(LIST_SCORES, np.zeros(5))
    z, log_rank = list_relative(scores)[:2]
    assert not z.any() and not log_rank.any()


def test_grouped_call_equals_one_call_per_list() -> None:
    """What training computes over many lists at once is what serving computes per request."""
    scores = _scores(60, seed=1)
    groups = np.repeat([0, 1, 2], 20)
    together = np.column_stack(list_relative(scores, groups))
    for g in range(3):
        alone = np.column_stack(list_relative({k: v[groups == g] for k, v in scores.items()}))
        np.testing.assert_allclose(together[groups == g], alone)


def test_ranker_inputs_group_by_list_id() -> None:
    raw = pd.DataFrame(_scores(40, seed=2)).assign(list_id=np.repeat(["a", "b"], 20))
    raw[list(LIST_SCORES)] = raw[list(LIST_SCORES)].clip(0, 1)
    together = ranker_inputs(raw)
    first = ranker_inputs(raw[raw["list_id"] == "a"].drop(columns="list_id"))
    columns = [RANKER_INPUTS.index(name) for name in LIST_INPUTS]
    np.testing.assert_allclose(together[:20][:, columns], first[:, columns], rtol=1e-6)
    assert set(LIST_INPUTS) <= set(RANKER_INPUTS) and together.shape[1] == len(RANKER_INPUTS)

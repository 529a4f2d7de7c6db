"""ALS factors as a served source: the fold-in finds a user's taste from their history alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.candidates.als import ALSFactors, fit_als
from training.config import ALSConfig

SMALL = ALSConfig(factors=2, regularization=1.0, alpha=5.0, iterations=20)


def _two_tastes() -> pd.DataFrame:
    """Users of taste A take items a0-a9, users of taste B items b0-b9 (each a random 6)."""
    rng = np.random.default_rng(0)
    rows = []
    for taste in ("a", "b"):
        for u in range(40):
            for i in rng.choice(10, size=6, replace=False):
                rows.append((f"{taste}-user{u}", f"{taste}{i}"))
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def test_a_folded_in_history_retrieves_its_own_taste() -> None:
    als = fit_als(_two_tastes(), SMALL)
    top = als.top(["a1", "a2", "a3"], 5)
    assert len(top) == 5 and all(item.startswith("a") for item in top), top
    assert not {"a1", "a2", "a3"} & set(top), "the history is never retrieved again"
    assert all(item.startswith("b") for item in als.top(["b0", "b4"], 4))
    scores = als.scores_of(["a1", "a2"], ["a5", "b5", "unknown"])
    assert scores[0] > scores[1] and scores[2] == 0.0


def test_no_history_means_no_vector_and_no_candidates() -> None:
    als = fit_als(_two_tastes(), SMALL)
    assert als.user_vector([]) is None and als.user_vector(["never-seen"]) is None
    assert als.top([], 5) == [] and als.scores_of([], ["a1"]).tolist() == [0.0]


def test_saved_factors_load_back_the_same(tmp_path: Path) -> None:
    als = fit_als(_two_tastes(), SMALL)
    loaded = ALSFactors.load(als.save(tmp_path))
    assert loaded.top(["a1"], 5) == als.top(["a1"], 5)
    np.testing.assert_allclose(loaded.scores_of(["b2"], ["b3", "a3"]), als.scores_of(["b2"], ["b3", "a3"]))


def test_the_fold_in_is_the_training_step_for_a_user_it_saw() -> None:
    """For a training user, folding in their items reproduces the factors ALS learned for them."""
    from implicit.cpu.als import AlternatingLeastSquares

    frame = _two_tastes()
    als = fit_als(frame, SMALL)
    users = pd.factorize(frame["user_id"])[0]
    items = pd.Index(als.item_ids).get_indexer(frame["item_id"])
    import scipy.sparse as sp

    matrix = sp.csr_matrix((np.ones(len(items), np.float32), (users, items)))
    model = AlternatingLeastSquares(
        factors=SMALL.factors, regularization=SMALL.regularization, alpha=SMALL.alpha,
        iterations=SMALL.iterations, random_state=SMALL.seed, num_threads=1, use_cg=False,
    )  # fmt: skip
    model.fit(matrix, show_progress=False)
    first = frame[users == 0]["item_id"].tolist()
    # implicit updates users before the last item step, so the two differ by that one half-step.
    np.testing.assert_allclose(als.user_vector(first), model.user_factors[0], atol=0.03)

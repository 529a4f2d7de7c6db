"""The baselines on a big catalogue: EASE capped to the most-interacted items, ItemKNN sparse above
its dense limit, each giving what the uncapped model gives where the cap does not bind."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from training.config import BaselineScaleConfig, EASEConfig
from training.recommenders import EASERecommender, ItemKNNRecommender
from training.recommenders.ease import FALLBACK_FLOOR, ease_weights
from training.recommenders.itemknn import cosine_neighbours


def _matrix(users: int = 300, items: int = 120, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    popularity = (
        1.0 / np.arange(1, items + 1) ** 0.7
    )  # a skewed catalogue, so "most interacted" means something
    dense = rng.random((users, items)) < 0.25 * popularity / popularity.mean()
    return sp.csr_matrix(dense.astype(np.float32))


def test_defaults_cap_ease_like_the_served_source() -> None:
    scale = BaselineScaleConfig()
    assert scale.ease_max_items == EASEConfig().max_items == EASERecommender().max_items
    assert scale.itemknn_dense_max_items < 20_000  # a 20k-item file takes the sparse path


def test_ease_under_its_cap_is_plain_ease() -> None:
    x = _matrix()
    users = np.arange(20)
    capped = EASERecommender(100.0, max_items=x.shape[1]).fit(x)
    assert capped.kept is None
    expected = x[users] @ ease_weights(x, 100.0)
    np.testing.assert_allclose(capped.scores(users), expected, rtol=1e-5, atol=1e-6)


def test_ease_over_its_cap_models_the_most_interacted_items_and_ranks_the_rest_by_popularity() -> None:
    x = _matrix()
    counts = np.asarray(x.sum(axis=0)).ravel()
    model = EASERecommender(100.0, max_items=40).fit(x)
    kept = model.kept
    assert kept is not None and len(kept) == 40
    assert counts[kept].min() >= np.delete(counts, kept).max()  # the 40 most interacted
    assert model.weights.shape == (40, 40)  # the dense inverse is items-of-the-cap squared
    users = np.arange(30)
    scores = model.scores(users)
    sub = x[:, kept].tocsr()
    np.testing.assert_allclose(scores[:, kept], sub[users] @ ease_weights(sub, 100.0), rtol=1e-5, atol=1e-6)
    rest = np.setdiff1d(np.arange(x.shape[1]), kept)
    assert scores[:, rest].max() < scores[:, kept].min() and scores[:, rest].min() >= FALLBACK_FLOOR
    by_popularity = rest[np.argsort(-counts[rest], kind="stable")]
    assert np.all(np.diff(scores[0, by_popularity]) <= 0)


def test_itemknn_sparse_path_keeps_the_dense_paths_neighbours() -> None:
    x = _matrix(items=150)
    for k in (5, 40, 400):
        dense = cosine_neighbours(x, k, 10.0, dense_max_items=10_000).toarray()
        sparse = cosine_neighbours(x, k, 10.0, dense_max_items=100).toarray()
        # Binary data ties often at the k-th neighbour; the kept similarity values agree exactly.
        np.testing.assert_allclose(np.sort(sparse, axis=0), np.sort(dense, axis=0), rtol=1e-6, atol=1e-7)
        assert (np.count_nonzero(sparse, axis=0) <= k).all()


def test_itemknn_recommender_switches_without_changing_its_ranking() -> None:
    x = _matrix(items=150)
    users = np.arange(25)
    dense = ItemKNNRecommender(400, 10.0, dense_max_items=10_000).fit(x).scores(users)
    sparse = ItemKNNRecommender(400, 10.0, dense_max_items=100).fit(x).scores(users)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-6)

"""Block-wise pruning of neighbour weights gives exactly the one-shot result, ties and zeros too."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from training.candidates.neighbour_lists import top_neighbours, top_of_dense


def _weights(rows: int = 700, cols: int = 200) -> np.ndarray:
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(rows, cols)).astype(np.float32)
    weights[rng.random(weights.shape) < 0.3] = 0.0
    weights[:, 7] = -weights[:, 8]  # ties by magnitude, broken by column
    np.fill_diagonal(weights[:cols], 0.0)
    return weights


def test_dense_blocks_match_one_sparse_prune() -> None:
    weights = _weights()
    for k in (1, 6, 150, 500):
        expected = top_neighbours(sp.csr_matrix(weights), k, by_magnitude=True)
        got = top_of_dense(weights, k, block_rows=64)
        assert (got != expected).nnz == 0 and got.shape == expected.shape
        assert (np.diff(got.indptr) <= k).all() and not (got.data == 0).any()


def test_row_blocks_of_a_sparse_matrix_match_one_sort() -> None:
    sim = sp.csr_matrix(_weights())
    for k, magnitude in ((3, False), (40, True)):
        whole = top_neighbours(sim, k, by_magnitude=magnitude)
        blocked = top_neighbours(sim, k, by_magnitude=magnitude, block_entries=500)
        assert (whole != blocked).nnz == 0


def test_empty_inputs() -> None:
    assert top_of_dense(np.zeros((0, 0), np.float32), 5).shape == (0, 0)
    assert top_of_dense(np.ones((3, 3), np.float32), 0).nnz == 0
    assert top_neighbours(sp.csr_matrix((4, 4), dtype=np.float32), 2).nnz == 0

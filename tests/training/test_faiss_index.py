"""FAISS item index: exact and HNSW round trips, incremental adds, removal, HNSW recall."""

from __future__ import annotations

import numpy as np
import pytest

from training.config import IndexConfig
from training.index.faiss_index import ItemIndex

HNSW = IndexConfig(exact_max_items=100)


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize(("config", "kind"), [(IndexConfig(), "exact"), (HNSW, "hnsw")])
def test_round_trip_search_add_remove(config: IndexConfig, kind: str, tmp_path) -> None:
    rng = np.random.default_rng(0)
    vectors = _unit(rng, 500)
    ids = [f"item-{i}" for i in range(500)]
    index = ItemIndex.build(ids, vectors, config)
    assert index.kind == kind and index.size == 500 and index.dim == 16

    found, scores = index.search(vectors[:5], k=3)
    assert [row[0] for row in found] == ids[:5]  # each vector is its own best match
    assert scores.shape == (5, 3) and np.all(np.diff(scores, axis=1) <= 1e-6)

    index.save(tmp_path / "idx")
    loaded = ItemIndex.load(tmp_path / "idx")
    assert loaded.kind == kind and loaded.size == 500
    again, again_scores = loaded.search(vectors[:5], k=3)
    assert again == found
    np.testing.assert_allclose(again_scores, scores, atol=1e-6)

    new = _unit(rng, 2)
    loaded.add(["new-a", "new-b"], new)
    assert loaded.size == 502 and "new-a" in loaded
    assert loaded.search(new, k=1)[0] == [["new-a"], ["new-b"]]

    assert loaded.remove(["item-0", "not-there"]) == 1
    assert "item-0" not in loaded and loaded.size == 501
    top, _ = loaded.search(vectors[:1], k=10)
    assert "item-0" not in top[0] and len(top[0]) == 10

    # Tombstones survive a save/load cycle.
    loaded.save(tmp_path / "idx2")
    reloaded = ItemIndex.load(tmp_path / "idx2")
    assert reloaded.size == 501 and "item-0" not in reloaded.search(vectors[:1], k=10)[0][0]


def test_readding_an_id_replaces_its_vector() -> None:
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 20)
    index = ItemIndex.build([f"i{i}" for i in range(20)], vectors)
    index.add(["i3"], vectors[7:8])
    assert index.size == 20
    np.testing.assert_allclose(index.reconstruct("i3"), vectors[7], atol=1e-6)
    hits, _ = index.search(vectors[3:4], k=20)
    assert hits[0].count("i3") == 1


def test_padding_is_dropped_when_k_exceeds_the_catalogue() -> None:
    index = ItemIndex.build(["a", "b", "c"], np.eye(3, dtype=np.float32))
    found, scores = index.search(np.array([[1.0, 0.5, 0.0]], dtype=np.float32), k=5)
    assert found == [["a", "b", "c"]]
    assert np.isneginf(scores[0, 3:]).all() and np.isfinite(scores[0, :3]).all()


def test_rejects_wrong_dimension_and_nan() -> None:
    index = ItemIndex.build(["a"], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError):
        index.search(np.ones((1, 3), dtype=np.float32), k=1)
    with pytest.raises(ValueError):
        index.add(["b"], np.full((1, 4), np.nan, dtype=np.float32))


def test_hnsw_recall_against_exact() -> None:
    rng = np.random.default_rng(2)
    items, queries = _unit(rng, 5_000, 64), _unit(rng, 200, 64)
    ids = [str(i) for i in range(len(items))]
    exact = ItemIndex.build(ids, items, IndexConfig())
    approx = ItemIndex.build(ids, items, IndexConfig(exact_max_items=1_000))
    assert (exact.kind, approx.kind) == ("exact", "hnsw")
    truth, _ = exact.search(queries, k=10)
    got, _ = approx.search(queries, k=10)
    recall = np.mean([len(set(t) & set(g)) / 10 for t, g in zip(truth, got, strict=True)])
    assert recall >= 0.9, recall

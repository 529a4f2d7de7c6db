"""FAISS item index: exact, HNSW and IVF-PQ round trips, incremental adds, removal, recall."""

from __future__ import annotations

from dataclasses import replace

import faiss
import numpy as np
import pytest

from training.config import IndexConfig
from training.index.faiss_index import ItemIndex

HNSW = IndexConfig(exact_max_items=100)
# 6-bit codes train in a fraction of the time of 8-bit ones; the code paths are the same.
IVFPQ = IndexConfig(exact_max_items=100, large_kind="ivfpq", ivf_nlist=8, ivf_nprobe=8, pq_m=16, pq_nbits=6)


@pytest.fixture(autouse=True)
def one_faiss_thread():
    """Tiny indices: OpenMP threads only spin against other work (IVF-PQ training took 10 s, not 0.3)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


KINDS = [(IndexConfig(), "exact"), (HNSW, "hnsw"), (IVFPQ, "ivfpq")]


@pytest.mark.parametrize(("config", "kind"), KINDS)
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


def _clustered(rng: np.random.Generator, n: int, d: int = 16, clusters: int = 20) -> np.ndarray:
    centres = _unit(rng, clusters, d)
    x = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.15, size=(n, d)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_ivfpq_recall_against_exact_and_nprobe_trade_off() -> None:
    rng = np.random.default_rng(3)
    items, queries = _clustered(rng, 4_000, 32), _clustered(rng, 100, 32)
    ids = [str(i) for i in range(len(items))]
    truth, _ = ItemIndex.build(ids, items).search(queries, k=50)
    config = IndexConfig(exact_max_items=1_000, large_kind="ivfpq", ivf_nlist=64, pq_m=16, pq_nbits=6)
    index = ItemIndex.build(ids, items, config)
    assert index.kind == "ivfpq"

    def recall(nprobe: int) -> float:
        index.config = replace(config, ivf_nprobe=nprobe)  # a search-time knob: no rebuild
        got, _ = index.search(queries, k=50)
        return float(np.mean([len(set(t) & set(g)) / 50 for t, g in zip(truth, got, strict=True)]))

    wide, narrow = recall(64), recall(1)
    assert wide >= 0.7, wide
    assert wide > narrow + 0.05, (wide, narrow)  # probing more lists finds more true neighbours


def test_ivfpq_trains_on_a_sample_and_caps_its_lists() -> None:
    rng = np.random.default_rng(4)
    items = _unit(rng, 2_000)
    config = IndexConfig(
        exact_max_items=10, large_kind="ivfpq", ivf_nlist=4096, pq_m=8, pq_nbits=6, train_sample=1_000
    )
    index = ItemIndex.build([str(i) for i in range(2_000)], items, config)
    assert index.index.nlist == 1_000 // 39  # k-means gets >= 39 sample points per list
    assert index.size == 2_000


def test_ivfpq_rejects_bad_shapes_and_tiny_catalogues() -> None:
    rng = np.random.default_rng(5)
    with pytest.raises(ValueError, match="must divide"):
        ItemIndex.build(["a"] * 300, _unit(rng, 300), replace(IVFPQ, pq_m=5))
    with pytest.raises(ValueError, match="at least 256"):
        ItemIndex.build([str(i) for i in range(200)], _unit(rng, 200), replace(IVFPQ, pq_nbits=8))
    with pytest.raises(ValueError, match="large_kind"):
        IndexConfig(large_kind="lsh")  # type: ignore[arg-type]

"""FAISS item index that speaks string item ids.

Exact inner product (``IndexFlatIP``) while the catalogue is small enough that brute force is
both fast and perfectly accurate; above ``IndexConfig.exact_max_items`` either HNSW (graph, full
vectors: best recall per millisecond) or IVF-PQ (clustered, 16-byte codes: a fraction of the
memory, trained on a sample) as ``IndexConfig.large_kind`` says. Removal is a tombstone set
filtered at search time: no index type removes cheaply in place, and tombstones keep FAISS labels
equal to positions in ``_ids``. The scheduled full rebuild reclaims the space.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

from training.config import IndexConfig

INDEX_FILE = "items.faiss"
META_FILE = "items_index.json"


def _as_matrix(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or (dim is not None and matrix.shape[1] != dim):
        raise ValueError(f"expected vectors of shape [n, {dim}], got {list(matrix.shape)}")
    if not np.isfinite(matrix).all():
        raise ValueError("vectors contain NaN or inf")
    return matrix


def _kind(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    return "ivfpq" if isinstance(index, faiss.IndexIVFPQ) else "exact"


def _new_index(matrix: np.ndarray, config: IndexConfig) -> faiss.Index:
    """An empty (trained, where it needs training) index of the kind the catalogue size calls for."""
    n, dim = matrix.shape
    if n <= config.exact_max_items:
        return faiss.IndexFlatIP(dim)
    if config.large_kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.ef_construction
        index.hnsw.efSearch = config.ef_search
        return index
    if dim % config.pq_m:
        raise ValueError(f"pq_m={config.pq_m} must divide the embedding dimension {dim}")
    rng = np.random.default_rng(config.seed)
    sample = matrix[np.sort(rng.choice(n, min(n, config.train_sample), replace=False))]
    if len(sample) < 2**config.pq_nbits:
        raise ValueError(f"IVF-PQ needs at least {2**config.pq_nbits} items to train, got {len(sample)}")
    nlist = max(1, min(config.ivf_nlist, len(sample) // 39))  # FAISS wants >= 39 points per cluster
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFPQ(quantizer, dim, nlist, config.pq_m, config.pq_nbits, faiss.METRIC_INNER_PRODUCT)
    index.train(sample)
    index.nprobe = config.ivf_nprobe
    index.make_direct_map()
    return index


class ItemIndex:
    """Inner-product search over item embeddings with incremental add and tombstone removal."""

    def __init__(
        self, index: faiss.Index, ids: list[str], config: IndexConfig, removed: Iterable[str] = ()
    ) -> None:
        if index.ntotal != len(ids):
            raise ValueError(f"index holds {index.ntotal} vectors but {len(ids)} ids were given")
        self.index = index
        self.config = config
        self._ids = ids
        self._position = {item: pos for pos, item in enumerate(ids)}  # latest position per id
        self._dead: set[int] = {pos for pos, item in enumerate(ids) if self._position[item] != pos}
        self._dead |= {self._position[i] for i in removed if i in self._position}
        self._id_array: np.ndarray | None = None  # object array of ids, rebuilt lazily after adds

    @classmethod
    def build(
        cls, item_ids: Sequence[str], embeddings: np.ndarray, config: IndexConfig | None = None
    ) -> ItemIndex:
        config = config or IndexConfig()
        matrix = _as_matrix(embeddings)
        if len(item_ids) != len(matrix):
            raise ValueError(f"{len(item_ids)} ids for {len(matrix)} vectors")
        index = _new_index(matrix, config)
        index.add(matrix)
        return cls(index, [str(i) for i in item_ids], config)

    @property
    def kind(self) -> str:
        """``"exact"``, ``"hnsw"`` or ``"ivfpq"``."""
        return _kind(self.index)

    @property
    def size(self) -> int:
        """Searchable (live) items."""
        return len(self._ids) - len(self._dead)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __contains__(self, item_id: object) -> bool:
        pos = self._position.get(item_id) if isinstance(item_id, str) else None
        return pos is not None and pos not in self._dead

    def search(self, queries: np.ndarray, k: int) -> tuple[list[list[str]], np.ndarray]:
        """Top-k item ids and scores per query; lists may be shorter than k (FAISS ``-1`` padding and
        removed items are dropped), ``scores`` is [q, k] float32 padded with ``-inf``."""
        matrix = _as_matrix(queries, self.dim)
        scores_out = np.full((len(matrix), max(k, 0)), -np.inf, dtype=np.float32)
        if k <= 0 or self.size == 0 or len(matrix) == 0:
            return [[] for _ in range(len(matrix))], scores_out
        fetch = min(k + len(self._dead), self.index.ntotal)
        # Per-call parameters instead of mutating the index: safe under concurrent requests.
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.config.ef_search, fetch))
            scores, labels = self.index.search(matrix, fetch, params=params)
        elif self.kind == "ivfpq":
            params = faiss.SearchParametersIVF(nprobe=self.config.ivf_nprobe)
            scores, labels = self.index.search(matrix, fetch, params=params)
        else:
            scores, labels = self.index.search(matrix, fetch)
        live = labels >= 0
        if self._dead:
            live &= ~np.isin(labels, np.fromiter(self._dead, dtype=np.int64))
        if self._id_array is None or len(self._id_array) != len(self._ids):
            self._id_array = np.asarray(self._ids, dtype=object)
        ids_array = self._id_array
        results: list[list[str]] = []
        for row in range(len(matrix)):
            keep = np.flatnonzero(live[row])[:k]
            scores_out[row, : len(keep)] = scores[row, keep]
            results.append(ids_array[labels[row, keep]].tolist())
        return results, scores_out

    def add(self, item_ids: Sequence[str], embeddings: np.ndarray) -> None:
        """Append items; an id already present is replaced (its old vector is tombstoned)."""
        matrix = _as_matrix(embeddings, self.dim)
        if len(item_ids) != len(matrix):
            raise ValueError(f"{len(item_ids)} ids for {len(matrix)} vectors")
        start = len(self._ids)
        self.index.add(matrix)
        for offset, item in enumerate(map(str, item_ids)):
            old = self._position.get(item)
            if old is not None:
                self._dead.add(old)
            self._ids.append(item)
            self._position[item] = start + offset
            self._dead.discard(start + offset)

    def remove(self, item_ids: Iterable[str]) -> int:
        """Tombstone items so search skips them; returns how many were live."""
        removed = 0
        for item in item_ids:
            pos = self._position.get(str(item))
            if pos is not None and pos not in self._dead:
                self._dead.add(pos)
                removed += 1
        return removed

    def reconstruct(self, item_id: str) -> np.ndarray:
        """The stored vector of a live item (e.g. a seed item's vector for "related items");
        IVF-PQ gives back its decoded (approximate) vector."""
        if item_id not in self:
            raise KeyError(item_id)
        return self.index.reconstruct(self._position[item_id])

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(out / INDEX_FILE))
        removed = sorted(self._ids[p] for p in self._dead if self._position[self._ids[p]] == p)
        meta = {"ids": self._ids, "removed": removed, "config": self.config.to_dict(), "kind": self.kind}
        (out / META_FILE).write_text(json.dumps(meta))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> ItemIndex:
        src = Path(directory)
        meta = json.loads((src / META_FILE).read_text())
        index = faiss.read_index(str(src / INDEX_FILE))
        config = IndexConfig(**meta["config"])
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = config.ef_search
        elif isinstance(index, faiss.IndexIVF):
            index.nprobe = config.ivf_nprobe
            index.make_direct_map()  # reconstruct() by label; not always kept by write_index
        return cls(index, list(meta["ids"]), config, removed=meta.get("removed", []))

    def __repr__(self) -> str:
        return f"ItemIndex(kind={self.kind!r}, size={self.size}, dim={self.dim})"

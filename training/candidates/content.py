"""Content-based retrieval: items like the ones the user just engaged with, from what items *are*.

Vectors come from the item's own description (title words as hashed TF-IDF, category, brand and a
price band), never from interactions, so a brand-new item is similar to its peers the moment it is
added: the cold-start gap collaborative filtering leaves. No downloaded model: hashing keeps the
vocabulary unbounded and the vector size fixed; the IDF table is fitted once on the catalogue and
reused for items added later. Each item's neighbours are precomputed in batch over a FAISS index
(exact up to ``IndexConfig.exact_max_items``, HNSW above), so a request only reads lists: ten
brute-force searches per request would cost ~25 ms at 50k items. A new item is searched once
when it is added and slotted into its neighbours' lists, so it is retrievable the same day.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.config import ContentConfig, IndexConfig
from training.index.faiss_index import ItemIndex

ENCODER_FILE = "content_encoder.json"
NEIGHBOURS_FILE = "content_neighbours.npz"
_TOKEN = re.compile(r"[a-z0-9]+")


def _bucket(token: str, buckets: int) -> int:
    """Stable across processes (unlike ``hash``), so serving encodes like the batch build did."""
    return zlib.crc32(token.encode()) % buckets


def _tokens(title: object) -> list[str]:
    return _TOKEN.findall(str(title).lower()) if isinstance(title, str) else []


def _normalise_rows(block: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    return np.divide(block, norms, out=np.zeros_like(block), where=norms > 0)


@dataclass(frozen=True)
class ContentEncoder:
    """Item rows → unit content vectors; fitted state is the IDF table and the price range."""

    config: ContentConfig
    idf: np.ndarray  # [text_buckets]
    log_price_range: tuple[float, float]

    @property
    def dim(self) -> int:
        return self.config.text_buckets + 3 * self.config.attribute_buckets

    @classmethod
    def fit(cls, items: pd.DataFrame, config: ContentConfig | None = None) -> ContentEncoder:
        config = config or ContentConfig()
        df = np.zeros(config.text_buckets)
        for title in items["title"]:
            df[list({_bucket(t, config.text_buckets) for t in _tokens(title)})] += 1
        idf = np.log((1 + len(items)) / (1 + df)) + 1.0  # smooth: unseen buckets get the highest
        prices = pd.to_numeric(items["price"], errors="coerce")
        logs = np.log1p(prices[prices > 0].to_numpy(dtype=float))
        span = (float(logs.min()), float(logs.max())) if len(logs) else (0.0, 1.0)
        return cls(config, idf.astype(np.float32), span)

    def price_band(self, price: object) -> int | None:
        """Log-spaced band of the catalogue's price range; None for a missing price."""
        value = pd.to_numeric(price, errors="coerce")
        if pd.isna(value) or value <= 0:
            return None
        low, high = self.log_price_range
        share = (np.log1p(float(value)) - low) / max(high - low, 1e-9)
        return int(np.clip(share * self.config.price_bands, 0, self.config.price_bands - 1))

    def encode(self, items: pd.DataFrame) -> np.ndarray:
        """[n, dim] float32 unit vectors (an item with nothing known encodes as zeros)."""
        c = self.config
        n, a = len(items), c.attribute_buckets
        text = np.zeros((n, c.text_buckets), dtype=np.float32)
        category, brand, price = (np.zeros((n, a), dtype=np.float32) for _ in range(3))
        rows = zip(items["title"], items["category"], items["brand"], items["price"], strict=True)
        for i, (title, cat, brd, cost) in enumerate(rows):
            for token in _tokens(title):
                text[i, _bucket(token, c.text_buckets)] += 1.0
            category[i, _bucket(f"category={cat}", a)] = 1.0
            brand[i, _bucket(f"brand={brd}", a)] = 1.0
            band = self.price_band(cost)
            if band is not None:
                for step, weight in ((0, 1.0), (-1, c.neighbour_band_weight), (1, c.neighbour_band_weight)):
                    if 0 <= band + step < c.price_bands:
                        price[i, _bucket(f"price_band={band + step}", a)] += weight
        text *= self.idf
        blocks = [(text, c.text_weight), (category, c.category_weight), (brand, c.brand_weight)]
        blocks.append((price, c.price_weight))
        total = sum(weight for _, weight in blocks)
        joined = np.hstack([_normalise_rows(b) * np.sqrt(w / total) for b, w in blocks])
        return _normalise_rows(joined).astype(np.float32)

    def to_json(self) -> dict[str, object]:
        return {
            "config": self.config.to_dict(),
            "idf": self.idf.tolist(),
            "price": list(self.log_price_range),
        }

    @classmethod
    def from_json(cls, data: dict) -> ContentEncoder:
        low, high = data["price"]
        return cls(ContentConfig(**data["config"]), np.asarray(data["idf"], dtype=np.float32), (low, high))


class ContentIndex:
    """Content vectors in FAISS plus each item's precomputed neighbour list (compact arrays)."""

    def __init__(
        self, encoder: ContentEncoder, index: ItemIndex, ids: list[str], nbr: np.ndarray, score: np.ndarray
    ) -> None:
        self.encoder, self.index = encoder, index
        self._ids = ids  # row -> item id; neighbour lists hold rows
        self._row = {item: row for row, item in enumerate(ids)}
        self._nbr, self._score = nbr, score  # [rows, neighbours], -1 / -inf padded
        self._extra: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # rows of items added since

    @classmethod
    def build(
        cls, items: pd.DataFrame, config: ContentConfig | None = None, index_config: IndexConfig | None = None
    ) -> ContentIndex:
        encoder = ContentEncoder.fit(items, config)
        ids = items["item_id"].astype(str).tolist()
        vectors = encoder.encode(items)
        width = encoder.config.neighbours
        empty = np.full((len(ids), width), -1, np.int32), np.full((len(ids), width), -np.inf, np.float32)
        built = cls(encoder, ItemIndex.build(ids, vectors, index_config or IndexConfig()), ids, *empty)
        step = encoder.config.batch_queries
        for start in range(0, len(ids), step):
            rows = built._search(ids[start : start + step], vectors[start : start + step])
            built._nbr[start : start + step], built._score[start : start + step] = rows
        return built

    @property
    def size(self) -> int:
        return self.index.size

    def _search(self, ids: list[str], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        width = self.encoder.config.neighbours
        found, scores = self.index.search(vectors, width + 1)
        nbr = np.full((len(ids), width), -1, np.int32)
        score = np.full((len(ids), width), -np.inf, np.float32)
        for i, (item, row, row_scores) in enumerate(zip(ids, found, scores, strict=True)):
            keep = [(self._row[n], s) for n, s in zip(row, row_scores, strict=False) if n != item][:width]
            if keep:
                nbr[i, : len(keep)], score[i, : len(keep)] = zip(*keep, strict=True)
        return nbr, score

    def _list(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        return (self._nbr[row], self._score[row]) if row < len(self._nbr) else self._extra[row]

    def _set(self, row: int, nbr: np.ndarray, score: np.ndarray) -> None:
        if row < len(self._nbr):
            self._nbr[row], self._score[row] = nbr, score
        else:
            self._extra[row] = (nbr, score)

    def add_items(self, items: pd.DataFrame) -> None:
        """Add or re-describe items (catalogue writes): each gets its own list and enters the lists
        of its neighbours where it beats their last entry, so it is retrievable immediately."""
        if not len(items):
            return
        ids = items["item_id"].astype(str).tolist()
        vectors = self.encoder.encode(items)
        self.index.add(ids, vectors)
        for item in ids:
            if item not in self._row:
                self._row[item] = len(self._ids)
                self._ids.append(item)
        nbr, score = self._search(ids, vectors)
        for item, own_nbr, own_score in zip(ids, nbr, score, strict=True):
            row = self._row[item]
            self._set(row, own_nbr, own_score)
            for other, value in zip(own_nbr[own_nbr >= 0], own_score[own_nbr >= 0], strict=True):
                their_nbr, their_score = self._list(int(other))
                keep = their_nbr != row
                merged_nbr = np.append(their_nbr[keep], row)
                merged_score = np.append(their_score[keep], value)
                order = np.argsort(-merged_score, kind="stable")[: len(their_nbr)]
                self._set(int(other), merged_nbr[order].astype(np.int32), merged_score[order])

    def remove(self, item_ids: Iterable[str]) -> int:
        """Tombstone items; they are skipped in every list at lookup time."""
        return self.index.remove(list(item_ids))

    def neighbours(self, item_id: str, k: int) -> list[str]:
        """Neighbours of one item ("related items"), also for an item added today."""
        return self.similar([item_id], k)

    def similar(self, seed_ids: Sequence[str], k: int, exclude: Iterable[str] = ()) -> list[str]:
        """Up to ``k`` items most like the seeds (most recent first), seeds and ``exclude`` left out.

        A candidate's score is its best similarity to any seed, discounted by ``seed_decay`` per
        step back in the user's history; array reads only, no search.
        """
        best = self.scores(seed_ids, exclude)
        return [item for item, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[: max(k, 0)]]

    def scores(self, seed_ids: Sequence[str], exclude: Iterable[str] = ()) -> dict[str, float]:
        """Every live item in the seeds' neighbour lists, with its best seed-discounted similarity."""
        c = self.encoder.config
        seeds = [s for s in dict.fromkeys(seed_ids) if s in self.index][: c.max_seeds]
        skip = set(seeds) | set(exclude)
        best: dict[str, float] = {}
        for step, seed in enumerate(seeds):
            nbr, score = self._list(self._row[seed])
            discount = c.seed_decay**step
            for row, value in zip(nbr[nbr >= 0].tolist(), score[nbr >= 0].tolist(), strict=True):
                item = self._ids[row]
                if item not in skip and value * discount > best.get(item, -np.inf) and item in self.index:
                    best[item] = value * discount
        return best

    def save(self, directory: str | Path) -> Path:
        out = self.index.save(directory)
        (out / ENCODER_FILE).write_text(json.dumps(self.encoder.to_json()))
        rows = [self._list(row) for row in range(len(self._ids))]
        nbr = np.stack([r[0] for r in rows]) if rows else self._nbr
        score = np.stack([r[1] for r in rows]) if rows else self._score
        np.savez(out / NEIGHBOURS_FILE, ids=np.asarray(self._ids, dtype=str), nbr=nbr, score=score)
        return out

    @classmethod
    def load(cls, directory: str | Path) -> ContentIndex:
        src = Path(directory)
        encoder = ContentEncoder.from_json(json.loads((src / ENCODER_FILE).read_text()))
        with np.load(src / NEIGHBOURS_FILE) as data:
            ids, nbr, score = data["ids"].tolist(), data["nbr"], data["score"]
        return cls(encoder, ItemIndex.load(src), ids, nbr, score)

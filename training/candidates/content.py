"""Content-based retrieval: items like the ones the user just engaged with, from what items *are*.

Vectors come from the item's own description (title words as hashed TF-IDF, category, brand and a
price band), never from interactions, so a brand-new item is similar to its peers the moment it is
added: the cold-start gap collaborative filtering leaves. No downloaded model: hashing keeps the
vocabulary unbounded and the vector size fixed; the IDF table is fitted once on the catalogue and
reused for items added later. Search is exact (``IndexFlatIP``): content vectors are only compared
to a handful of seed items per request.
"""

from __future__ import annotations

import json
import re
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.config import ContentConfig, IndexConfig
from training.index.faiss_index import ItemIndex

ENCODER_FILE = "content_encoder.json"
EXACT = IndexConfig(exact_max_items=sys.maxsize)
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
    """Exact FAISS search over content vectors, keyed by item id, with day-one adds."""

    def __init__(self, encoder: ContentEncoder, index: ItemIndex) -> None:
        self.encoder, self.index = encoder, index

    @classmethod
    def build(cls, items: pd.DataFrame, config: ContentConfig | None = None) -> ContentIndex:
        encoder = ContentEncoder.fit(items, config)
        ids = items["item_id"].astype(str).tolist()
        return cls(encoder, ItemIndex.build(ids, encoder.encode(items), EXACT))

    @property
    def size(self) -> int:
        return self.index.size

    def add_items(self, items: pd.DataFrame) -> None:
        """Add or re-describe items (catalogue writes); they are retrievable immediately."""
        if len(items):
            self.index.add(items["item_id"].astype(str).tolist(), self.encoder.encode(items))

    def remove(self, item_ids: Sequence[str]) -> int:
        return self.index.remove(item_ids)

    def similar(self, seed_ids: Sequence[str], k: int, exclude: Sequence[str] = ()) -> list[str]:
        """Up to ``k`` items most like the seeds (most recent first), seeds and ``exclude`` left out.

        Each seed contributes its ``per_seed`` (or ``k / seeds``) nearest neighbours; a candidate's
        score is its best similarity to any seed, discounted by ``seed_decay`` per step back.
        """
        c = self.encoder.config
        seeds = [s for s in dict.fromkeys(seed_ids) if s in self.index][: c.max_seeds]
        if not seeds or k <= 0:
            return []
        skip = set(seeds) | set(exclude)
        queries = np.stack([self.index.reconstruct(s) for s in seeds])
        per_seed = max(c.per_seed, -(-k // len(seeds)))  # one seed alone can fill all of k
        found, scores = self.index.search(queries, per_seed + len(seeds))
        best: dict[str, float] = {}
        for step, (row, row_scores) in enumerate(zip(found, scores, strict=True)):
            discount = c.seed_decay**step
            for item, score in zip(row, row_scores, strict=False):
                if item not in skip:
                    best[item] = max(best.get(item, -np.inf), float(score) * discount)
        return [item for item, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]

    def similar_to_item(self, item_id: str, k: int) -> list[str]:
        """Neighbours of one item ("related items"), also for an item added today."""
        return self.similar([item_id], k)

    def save(self, directory: str | Path) -> Path:
        out = self.index.save(directory)
        (out / ENCODER_FILE).write_text(json.dumps(self.encoder.to_json()))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> ContentIndex:
        src = Path(directory)
        encoder = ContentEncoder.from_json(json.loads((src / ENCODER_FILE).read_text()))
        return cls(encoder, ItemIndex.load(src))

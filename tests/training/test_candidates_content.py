"""Content source: attribute-driven neighbours, day-one adds, save/load with the same encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.candidates.content import ContentEncoder, ContentIndex
from training.config import ContentConfig


def _items() -> pd.DataFrame:
    rows = []
    for n in range(40):
        category = ["shoes", "lamps", "books", "tents"][n % 4]
        rows.append(
            {
                "item_id": f"i{n}",
                "title": f"{['red', 'blue', 'eco', 'pro'][n % 4]} {category} model {n}",
                "category": category,
                "brand": f"brand{n % 5}",
                "price": float(10 * (1 + n % 4) ** 2),
            }
        )
    return pd.DataFrame(rows)


def test_vectors_are_unit_and_share_attributes() -> None:
    items = _items()
    encoder = ContentEncoder.fit(items)
    vectors = encoder.encode(items)
    assert vectors.shape == (40, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same_category = float(vectors[0] @ vectors[4])  # both shoes, same price band
    other_category = float(vectors[0] @ vectors[1])
    assert same_category > other_category + 0.2


def test_similar_items_come_from_the_seed_category_without_the_seed() -> None:
    index = ContentIndex.build(_items())
    similar = index.similar(["i0"], k=5)
    assert len(similar) == 5 and "i0" not in similar
    assert all(int(i[1:]) % 4 == 0 for i in similar), similar  # shoes, like i0
    mixed = index.similar(["i1", "i0"], k=12, exclude=["i5"])
    assert "i5" not in mixed and {"i1", "i0"}.isdisjoint(mixed)
    assert int(mixed[0][1:]) % 4 == 1, "the most recent seed's neighbours rank first"
    assert index.similar(["unknown"], k=5) == []


def test_a_new_item_is_retrievable_the_day_it_arrives(tmp_path) -> None:
    index = ContentIndex.build(_items())
    new = pd.DataFrame(
        [
            {
                "item_id": "fresh",
                "title": "eco tents ultralight",
                "category": "tents",
                "brand": "brand3",
                "price": 160.0,
            }
        ]
    )
    index.add_items(new)
    assert index.size == 41
    assert "fresh" in index.similar(["i3"], k=10)  # a tent like i3
    assert all(int(i[1:]) % 4 == 3 for i in index.neighbours("fresh", k=5))

    index.save(tmp_path / "content")
    loaded = ContentIndex.load(tmp_path / "content")
    assert loaded.similar(["fresh"], k=5) == index.similar(["fresh"], k=5)
    np.testing.assert_allclose(loaded.encoder.encode(new), index.encoder.encode(new))
    assert loaded.remove(["fresh"]) == 1 and "fresh" not in loaded.similar(["i3"], k=40)


def test_price_bands_make_close_prices_similar() -> None:
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c"],
            "title": ["x", "x", "x"],
            "category": ["c"] * 3,
            "brand": ["b"] * 3,
            "price": [10.0, 12.0, 5_000.0],
        }
    )
    only_price = ContentConfig(text_weight=0, category_weight=0, brand_weight=0, price_weight=1)
    vectors = ContentEncoder.fit(items, only_price).encode(items)
    assert vectors[0] @ vectors[1] > 0.9 and vectors[0] @ vectors[2] < 0.1
    missing = ContentEncoder.fit(items, only_price).encode(items.assign(price=np.nan))
    assert not np.isnan(missing).any()


def test_precomputed_lists_match_brute_force_and_new_items_displace_weaker_neighbours() -> None:
    items = _items()
    index = ContentIndex.build(items, ContentConfig(neighbours=3, batch_queries=7))  # several batches
    vectors = index.encoder.encode(items)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for row in (0, 13, 39):  # ties make the ids ambiguous, the similarities are not
        got = [sims[row, int(i[1:])] for i in index.neighbours(f"i{row}", 3)]
        np.testing.assert_allclose(got, np.sort(sims[row])[::-1][:3], atol=1e-5)

    before = index.neighbours("i3", 3)
    twin = items.iloc[[3]].assign(item_id="twin")  # i3's exact description: the best neighbour
    index.add_items(twin)
    after = index.neighbours("i3", 3)
    assert after[0] == "twin" and len(after) == 3 and set(after[1:]) < set(before), "one made room"
    dropped = (set(before) - set(after)).pop()
    kept = [sims[3, int(i[1:])] for i in after[1:]]
    assert sims[3, int(dropped[1:])] <= min(kept) + 1e-6, "the weakest neighbour was the one dropped"
    stranger = pd.DataFrame(
        [{"item_id": "odd", "title": "zzz", "category": "kites", "brand": "nobody", "price": None}]
    )
    index.add_items(stranger)
    assert "odd" not in index.neighbours("i3", 3)

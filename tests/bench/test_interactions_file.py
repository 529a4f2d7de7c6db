"""The synthetic review file: seeded, distinct pairs, power-law shaped, and readable by the adapter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.interactions_file import JSONL_COLUMNS, ReviewFileSpec, review_frame, write_review_file
from contracts.datasets import load_interactions

SMALL = ReviewFileSpec(lines=3_000, users=800, items=400, topics=8, seed=3)


def test_same_seed_same_file_and_pairs_are_distinct() -> None:
    first, again = review_frame(SMALL), review_frame(SMALL)
    assert first.equals(again) and not first.equals(
        review_frame(ReviewFileSpec(**{**SMALL.__dict__, "seed": 4}))
    )
    assert len(first) == SMALL.lines and not first.duplicated(["user", "item"]).any()
    assert first["timestamp"].is_monotonic_increasing and set(first["rating"]) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_activity_and_popularity_are_heavy_tailed() -> None:
    frame = review_frame(SMALL)
    per_user = frame["user"].value_counts().to_numpy()
    per_item = frame["item"].value_counts().to_numpy()
    assert np.median(per_user) <= 3 and per_user.max() >= 10 * np.median(per_user)
    top_items = per_item[: len(per_item) // 10].sum() / per_item.sum()
    assert top_items > 0.3  # the most popular tenth of the items takes far more than a tenth


def test_every_format_reads_back_as_the_same_interactions(tmp_path: Path) -> None:
    expected = review_frame(SMALL)
    tsv = write_review_file(tmp_path / "r.tsv", SMALL, "tsv")
    jsonl = write_review_file(tmp_path / "r.jsonl", SMALL, "jsonl")
    txt = write_review_file(tmp_path / "r.txt", SMALL, "txt")
    assert tsv["lines"] == jsonl["lines"] == txt["lines"] == SMALL.lines
    from_tsv = load_interactions(tmp_path / "r.tsv").events
    from_jsonl = load_interactions(tmp_path / "r.jsonl", columns=JSONL_COLUMNS).events
    from_txt = load_interactions(tmp_path / "r.txt").events
    for events in (from_tsv, from_jsonl, from_txt):
        assert events["user_id"].tolist() == expected["user"].tolist()
        assert events["item_id"].tolist() == expected["item"].tolist()
    assert from_tsv["value"].tolist() == from_jsonl["value"].tolist() == expected["rating"].tolist()
    assert (from_tsv["timestamp"] == from_jsonl["timestamp"]).all()

"""JSON-lines review files: a column mapping, Amazon's own field names, gzip, chunks, and bad lines."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from contracts.datasets import DatasetError, load_interactions
from contracts.datasets.json_lines import is_json_lines, read_json_lines
from contracts.datasets.reading import LINE

AMAZON = "user=reviewerID,item=asin,timestamp=unixReviewTime,rating=overall"
REVIEWS = [
    {"reviewerID": "A1", "asin": "B9", "overall": 5.0, "unixReviewTime": 1400000000, "reviewText": "x" * 50},
    {"reviewerID": "A2", "asin": "B9", "overall": 3.0, "unixReviewTime": 1400086400, "helpful": [1, 2]},
    {"reviewerID": "A1", "asin": "B7", "overall": 4.0, "unixReviewTime": 1400172800, "style": {"c": "red"}},
]


def _lines(path: Path, records: list[object], blank_after: int | None = None) -> Path:
    text = [json.dumps(r) for r in records]
    if blank_after is not None:
        text.insert(blank_after, "")
    path.write_text("\n".join(text) + "\n")
    return path


def test_amazon_reviews_with_a_mapping(tmp_path: Path) -> None:
    world = load_interactions(_lines(tmp_path / "reviews.jsonl", REVIEWS), columns=AMAZON)
    events = world.events
    assert list(events["user_id"]) == ["A1", "A2", "A1"] and list(events["item_id"]) == ["B9", "B9", "B7"]
    assert events["value"].tolist() == [5.0, 3.0, 4.0]
    assert events["timestamp"].iloc[1] == pd.Timestamp(1400086400, unit="s", tz="UTC")
    assert sorted(world.items["item_id"]) == ["B7", "B9"]


def test_amazon_field_names_are_recognised_without_a_mapping(tmp_path: Path) -> None:
    mapped = load_interactions(_lines(tmp_path / "a.json", REVIEWS), columns=AMAZON).events
    guessed = load_interactions(_lines(tmp_path / "b.json", REVIEWS)).events
    pd.testing.assert_frame_equal(mapped, guessed)


def test_gzipped_file_reads_like_the_plain_one(tmp_path: Path) -> None:
    plain = _lines(tmp_path / "r.jsonl", REVIEWS)
    packed = tmp_path / "r.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert is_json_lines(packed) and not is_json_lines(tmp_path / "r.csv.gz")
    pd.testing.assert_frame_equal(
        load_interactions(plain, columns=AMAZON).events, load_interactions(packed, columns=AMAZON).events
    )


def test_only_mapped_fields_are_kept_and_lines_survive_chunks(tmp_path: Path) -> None:
    records = [{"u": f"u{i}", "i": f"i{i % 3}", "text": "long " * 20} for i in range(7)]
    path = _lines(tmp_path / "r.jsonl", records, blank_after=2)
    frame = read_json_lines(path, lambda names: {"user": "u", "item": "i"}, chunk_lines=3)
    assert list(frame.columns) == ["u", "i", LINE]
    assert frame["u"].tolist() == [f"u{i}" for i in range(7)]
    assert frame[LINE].tolist() == [1, 2, 4, 5, 6, 7, 8]  # the blank third line is skipped, not renumbered


def test_missing_optional_field_is_reported_by_line(tmp_path: Path) -> None:
    records = [*REVIEWS, {"reviewerID": "A3", "asin": "B1", "overall": 2.0}]
    path = _lines(tmp_path / "r.jsonl", records)
    with pytest.raises(DatasetError, match=r"r.jsonl line 4: bad timestamp None"):
        load_interactions(path, columns=AMAZON)
    no_rating = [*REVIEWS, {"reviewerID": "A3", "asin": "B1", "unixReviewTime": 1400259200}]
    events = load_interactions(_lines(tmp_path / "s.jsonl", no_rating), columns=AMAZON).events
    assert pd.isna(events["value"].iloc[3]) and events["value"].iloc[0] == 5.0


@pytest.mark.parametrize(
    ("records", "columns", "message"),
    [
        ([REVIEWS[0], "not an object"], AMAZON, r"r.jsonl line 2: expected a JSON object, got str"),
        ([REVIEWS[0], {"asin": "B1", "overall": 1.0}], AMAZON, r"r.jsonl line 2: no 'reviewerID' field"),
        ([{"id": 1, "asin": "B1"}], None, r"r.jsonl: no user column among \['id', 'asin'\]"),
        ([REVIEWS[0]], "user=reviewer,item=asin", r"column 'reviewer' \(for user\) not found"),
        ([{"reviewerID": "", "asin": "B1"}], None, r"r.jsonl line 1: empty user id"),
    ],
)
def test_bad_input_names_the_line(
    tmp_path: Path, records: list[object], columns: str | None, message: str
) -> None:
    with pytest.raises(DatasetError, match=message):
        load_interactions(_lines(tmp_path / "r.jsonl", records), columns=columns)


def test_broken_json_and_bad_gzip(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(REVIEWS[0]) + "\n" + '{"reviewerID": "A2", "asin":\n')
    with pytest.raises(DatasetError, match=r"r.jsonl line 2: not valid JSON"):
        load_interactions(path)
    bad = tmp_path / "r.json.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match=r"r.json.gz: cannot read"):
        load_interactions(bad)
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(DatasetError, match=r"e.jsonl: no interactions"):
        load_interactions(empty)

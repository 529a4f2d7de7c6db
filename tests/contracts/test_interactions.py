"""Generic interactions files: every format, the column mapping, synthetic time, and line-exact errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from contracts.datasets import DatasetError, load_interactions

END = datetime(2025, 6, 1, tzinfo=UTC)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_a_column_mapping(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "log.csv",
        "uid,iid,ts,kind,stars,extra\n"
        "alice,x1,2024-01-01T10:00:00Z,click,4,\n"
        'bob,"x,2",2024-01-02 11:00,Purchase,5,n\n'
        "alice,x2,2024-01-03T00:00:00+02:00,view,,\n",
    )
    world = load_interactions(path, columns="user=uid,item=iid,timestamp=ts,event_type=kind,rating=stars")
    events = world.events
    assert list(events["user_id"]) == ["alice", "bob", "alice"]
    assert list(events["item_id"]) == ["x1", "x,2", "x2"]
    assert list(events["event_type"]) == ["click", "purchase", "view"]
    assert events["value"].iloc[:2].tolist() == [4.0, 5.0] and pd.isna(events["value"].iloc[2])
    assert events["timestamp"].iloc[2] == pd.Timestamp("2024-01-02T22:00:00Z")
    assert list(events["session_id"]) == ["alice-2024-01-01", "bob-2024-01-02", "alice-2024-01-02"]
    assert list(world.users["user_id"]) == ["alice", "bob"] and (world.users["country"] == "unknown").all()
    assert list(world.items["item_id"]) == ["x1", "x,2", "x2"] and world.items["price"].isna().all()


def test_tsv_guesses_known_column_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "log.tsv", "user_id\titemId\ttimestamp\trating\nu1\ti1\t1704067200000\t2.5\n")
    events = load_interactions(path).events
    assert events["timestamp"].item() == pd.Timestamp("2024-01-01", tz="UTC")  # milliseconds, by magnitude
    assert events["value"].item() == 2.5 and events["event_type"].item() == "click"


def test_whitespace_lines_get_increasing_synthetic_timestamps(tmp_path: Path) -> None:
    path = _write(tmp_path, "pairs.txt", "alice x1\n  bob   x2\n\ncarol x1\n")
    world = load_interactions(path, end_time=END)
    events = world.events
    assert list(events["user_id"]) == ["alice", "bob", "carol"]
    assert events["timestamp"].is_monotonic_increasing and events["timestamp"].max() < END
    assert events["timestamp"].iloc[0] == pd.Timestamp(END) - pd.Timedelta(seconds=3)
    assert len(world.items) == 2


def test_headerless_columns_map_by_position(tmp_path: Path) -> None:
    path = _write(tmp_path, "ratings.dat", "1;10;4;881250949\n2;10;5;881250950\n")
    events = load_interactions(path, columns="user=0,item=1,rating=2,timestamp=3", separator=";").events
    assert list(events["value"]) == [4.0, 5.0]
    assert events["timestamp"].iloc[0] == pd.Timestamp(881250949, unit="s", tz="UTC")


def test_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "user": [1, 2],
            "item": ["a", "b"],
            "event_type": ["share", "dwell"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    frame.to_parquet(tmp_path / "log.parquet")
    events = load_interactions(tmp_path / "log.parquet").events
    assert list(events["user_id"]) == ["1", "2"] and list(events["event_type"]) == ["share", "dwell"]
    assert events["timestamp"].iloc[1] == pd.Timestamp("2024-01-02", tz="UTC")  # naive means UTC


def test_jsonl(tmp_path: Path) -> None:
    rows = [
        {"user_id": 7, "item_id": "a", "ts": 1704067200},
        {"user_id": 8, "item_id": "b", "ts": 1704067300},
    ]
    path = _write(tmp_path, "log.jsonl", json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n")
    events = load_interactions(path).events
    assert list(events["user_id"]) == ["7", "8"]
    assert events["timestamp"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC")


@pytest.mark.parametrize(
    ("name", "text", "kwargs", "message"),
    [
        (
            "a.csv",
            "user,item,event_type\nu1,i1,click\nu2,i2,like\n",
            {},
            "a.csv line 3: unknown event type 'like'",
        ),
        (
            "a.csv",
            "user,item\nu1,i1\nu2\n",
            {},
            "a.csv line 3: expected 2 comma-separated fields (user item), got 1",
        ),
        ("a.csv", "user,item\nu1,i1\n,i2\n", {}, "a.csv line 3: empty user"),
        ("a.csv", "user,item,ts\nu1,i1,2024-01-01\nu2,i2,soon\n", {}, "a.csv line 3: bad timestamp 'soon'"),
        (
            "a.csv",
            "user,item,rating\nu1,i1,4\nu2,i2,five\n",
            {},
            "a.csv line 3: rating is not a number: 'five'",
        ),
        (
            "a.txt",
            "u1 i1\nu2 i2 i3\n",
            {},
            "a.txt line 2: expected 2 whitespace-separated fields (0 1), got 3",
        ),
        ("a.jsonl", '{"user": 1, "item": 2}\n\n{"user": 1,\n', {}, "a.jsonl line 3: not valid JSON"),
        ("a.jsonl", '{"user": 1, "item": 2}\n[1, 2]\n', {}, "a.jsonl line 2: expected a JSON object"),
        ("a.csv", "who,what\nu1,i1\n", {}, "a.csv: no user column among ['who', 'what']"),
        (
            "a.csv",
            "who,what\nu1,i1\n",
            {"columns": "user=who,item=it"},
            "a.csv: column 'it' (for item) not found",
        ),
        ("a.csv", "who,what\nu1,i1\n", {"columns": "person=who"}, "a.csv: bad column mapping 'person=who'"),
        ("a.csv", "user,item\n", {}, "a.csv: no interactions"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, kwargs: dict, message: str
) -> None:
    with pytest.raises(DatasetError) as caught:
        load_interactions(_write(tmp_path, name, text), **kwargs)
    assert str(caught.value).startswith(message)


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    pd.DataFrame({"user": ["a", None], "item": ["x", "y"]}).to_parquet(tmp_path / "log.parquet")
    with pytest.raises(DatasetError, match=r"^log.parquet row 2: empty user id"):
        load_interactions(tmp_path / "log.parquet")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_interactions(tmp_path / "nope.csv")

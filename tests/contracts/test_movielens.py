"""MovieLens adapter: the real 100K sample, tiny 1M and latest layouts, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from contracts.datasets import DatasetError, load_movielens
from contracts.schemas import EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA
from contracts.world.io import read_world, write_tables


def _folder(tmp_path: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding=encoding)
    return tmp_path


ML_1M = {
    "ratings.dat": "1::10::5::978300760\n1::20::3::978302109\n2::10::4::978301968\n",
    "movies.dat": "10::GoldenEye (1995)::Action|Adventure|Thriller\n20::Café Noir (1998)::Drama\n",
    "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
}
ML_LATEST = {
    "ratings.csv": "userId,movieId,rating,timestamp\n"
    "1,1,4.0,964982703\n1,3,3.5,964981247\n7,1,0.5,1106635946\n",
    "movies.csv": 'movieId,title,genres\n1,"Toy Story (1995)",Adventure|Animation\n'
    '3,"Grumpier Old Men, The (1995)",(no genres listed)\n',
}


def test_ml_100k_real_sample(ml_100k: Path, tmp_path: Path) -> None:
    world = load_movielens(ml_100k)
    users, items, events = world.users, world.items, world.events
    assert (len(users), len(items), len(events)) == (943, 1682, 100_000)
    assert users["user_id"].iloc[0] == "u1" and items["item_id"].iloc[0] == "i1"
    toy_story = items.iloc[0]
    assert (toy_story["title"], toy_story["category"]) == ("Toy Story (1995)", "animation")
    assert toy_story["created_at"] == pd.Timestamp("1995-01-01", tz="UTC")
    assert items["price"].isna().all() and items["in_stock"].all() and not items["sponsored"].any()
    assert items.loc[items["item_id"] == "i267", "category"].item() == "unknown"  # no genre, no date
    assert set(users["device"]) == {"unknown"} and users["segment"].iloc[1] == "45-54:f"
    assert set(events["event_type"]) == {"click"} and (events["position"] == -1).all()
    assert events["value"].between(1, 5).all() and events["event_id"].is_unique
    first = events.iloc[0]
    assert (first["user_id"], first["item_id"], first["value"]) == ("u196", "i242", 3.0)
    assert first["session_id"] == "u196-1997-12-04"
    first_use = events.groupby("item_id")["timestamp"].min()
    created = items.set_index("item_id")["created_at"]
    assert (created.loc[first_use.index].to_numpy() <= first_use.to_numpy()).all()

    summary = write_tables(tmp_path, users, items, events, kind="movielens")
    assert (summary.n_users, summary.n_items, summary.n_events) == (943, 1682, 100_000)
    assert pq.read_schema(tmp_path / "users.parquet").equals(USERS_SCHEMA)
    assert pq.read_schema(tmp_path / "items.parquet").equals(ITEMS_SCHEMA)
    assert pq.read_schema(tmp_path / "events" / "part-00000.parquet").equals(EVENTS_SCHEMA)
    assert len(read_world(tmp_path).events) == 100_000


def test_ml_1m_layout(tmp_path: Path) -> None:
    world = load_movielens(_folder(tmp_path, ML_1M, encoding="latin-1"))
    assert list(world.users["user_id"]) == ["u1", "u2"]
    assert list(world.users["age_bucket"]) == ["under-18", "55-64"]
    assert list(world.users["segment"]) == ["under-18:f", "55-64:m"]
    items = world.items.set_index("item_id")
    assert items.loc["i10", "category"] == "action" and items.loc["i20", "title"] == "Café Noir (1998)"
    assert items.loc["i10", "created_at"] == pd.Timestamp("1995-01-01", tz="UTC")
    assert list(world.events["value"]) == [5.0, 3.0, 4.0]


def test_ml_latest_layout(tmp_path: Path) -> None:
    world = load_movielens(_folder(tmp_path, ML_LATEST))
    assert list(world.users["user_id"]) == ["u1", "u7"]
    assert (world.users["age_bucket"] == "unknown").all()
    items = world.items.set_index("item_id")
    assert items.loc["i3", "title"] == "Grumpier Old Men, The (1995)"
    assert items.loc["i3", "category"] == "unknown" and items.loc["i1", "category"] == "adventure"
    assert list(world.events["value"]) == [4.0, 3.5, 0.5]


def test_ratings_without_metadata_files_still_load(tmp_path: Path) -> None:
    world = load_movielens(_folder(tmp_path, {"u.data": "1\t2\t3\t881250949\n\n"}))  # blank: slow path
    assert (world.items["category"].item(), world.users["segment"].item()) == ("unknown", "unknown")
    assert world.items["created_at"].item() == world.events["timestamp"].item()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("5\t6\t3", "u.data line 3: expected 4 tab-separated fields (user item rating timestamp), got 3"),
        (
            "5\t6\t3\t881250949\t1",
            "u.data line 3: expected 4 tab-separated fields (user item rating timestamp), got 5",
        ),
        (
            "5\t6\t3\t881250949\t1\t2",
            "u.data line 3: expected 4 tab-separated fields (user item rating timestamp), got 6",
        ),
        ("x5\t6\t3\t881250949", "u.data line 3: user id is not an integer: 'x5'"),
        ("5\t6.5\t3\t881250949", "u.data line 3: item id is not an integer: '6.5'"),
        ("5\t6\t7\t881250949", "u.data line 3: rating '7' out of range 0.5..5"),
        ("5\t6\tgood\t881250949", "u.data line 3: rating is not a number: 'good'"),
        ("5\t6\t3\tyesterday", "u.data line 3: bad timestamp 'yesterday' (expected unix seconds)"),
        ("5\t\t3\t881250949", "u.data line 3: empty item"),
    ],
)
def test_malformed_ratings_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    good = "1\t2\t3\t881250949\n"
    _folder(tmp_path, {"u.data": good + "\n" + line + "\n" + good})  # the blank line 2 is skipped
    with pytest.raises(DatasetError) as caught:
        load_movielens(tmp_path)
    assert str(caught.value) == message
    assert caught.value.line == 3 and caught.value.path.name == "u.data"


def test_malformed_metadata_and_headers(tmp_path: Path) -> None:
    ml_1m = dict(ML_1M, **{"movies.dat": "10::GoldenEye (1995)\n"})
    with pytest.raises(DatasetError, match=r"^movies.dat line 1: expected 3 '::'-separated fields"):
        load_movielens(_folder(tmp_path, ml_1m))
    latest = dict(ML_LATEST, **{"ratings.csv": "user,movie,rating,timestamp\n1,1,4.0,964982703\n"})
    (tmp_path / "latest").mkdir()
    with pytest.raises(DatasetError, match=r"^ratings.csv line 1: expected header"):
        load_movielens(_folder(tmp_path / "latest", latest))


def test_not_a_movielens_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a MovieLens folder"):
        load_movielens(tmp_path)
    with pytest.raises(DatasetError, match="expected a MovieLens folder"):
        load_movielens(tmp_path / "missing")

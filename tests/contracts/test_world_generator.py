"""The demo generator: determinism, exact schemas, ids, the summary, and the CLI."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from contracts.schemas import EVENTS_SCHEMA, ITEMS_SCHEMA, MANIFEST_FILE, USERS_SCHEMA
from contracts.world.__main__ import main
from contracts.world.generator import generate_world
from contracts.world.io import read_events, read_summary, read_world
from contracts.world.sizes import SPECS, spec_for


def _digest(world: Path) -> dict[str, str]:
    return {
        str(p.relative_to(world)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(world.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(
    tiny_world: Path, tmp_path: Path, world_end, world_seed
) -> None:
    generate_world(tmp_path, "tiny", world_seed, end_time=world_end, progress=False)
    assert _digest(tmp_path) == _digest(tiny_world)


def test_different_seed_gives_a_different_world(tiny_tables, tmp_path: Path, world_end, world_seed) -> None:
    generate_world(tmp_path, "tiny", world_seed + 1, end_time=world_end, progress=False)
    other = read_world(tmp_path)
    assert not other.events.equals(tiny_tables.events)
    assert not other.items["title"].equals(tiny_tables.items["title"])


def test_every_file_has_exactly_the_contract_schema(tiny_world: Path) -> None:
    assert pq.read_schema(tiny_world / "users.parquet").equals(USERS_SCHEMA, check_metadata=True)
    assert pq.read_schema(tiny_world / "items.parquet").equals(ITEMS_SCHEMA, check_metadata=True)
    parts = sorted((tiny_world / "events").glob("part-*.parquet"))
    assert [p.name for p in parts] == [f"part-{i:05d}.parquet" for i in range(spec_for("tiny").n_chunks)]
    for part in parts:
        assert pq.read_schema(part).equals(EVENTS_SCHEMA, check_metadata=True)


def test_sizes_match_the_spec(tiny_tables) -> None:
    spec = spec_for("tiny")
    assert len(tiny_tables.users) == spec.n_users
    assert len(tiny_tables.items) == spec.n_items
    assert 20_000 <= len(tiny_tables.events) <= 40_000
    assert (SPECS["demo"].n_users, SPECS["demo"].n_items, SPECS["demo"].days) == (20_000, 50_000, 30)
    assert (SPECS["large"].n_items, SPECS["large"].days) == (1_000_000, 60)
    with pytest.raises(ValueError, match="unknown world size"):
        spec_for("huge")  # type: ignore[arg-type]


def test_ids_are_formatted_and_unique(tiny_tables) -> None:
    users, items, events = tiny_tables.users, tiny_tables.items, tiny_tables.events
    assert users["user_id"].str.fullmatch(r"u\d{7}").all() and users["user_id"].is_unique
    assert items["item_id"].str.fullmatch(r"i\d{7}").all() and items["item_id"].is_unique
    assert users["user_id"].iloc[0] == "u0000001" and items["item_id"].iloc[0] == "i0000001"
    assert events["event_id"].is_unique
    assert events["user_id"].isin(users["user_id"]).all()
    assert events["item_id"].isin(items["item_id"]).all()
    owner = events["session_id"].str.extract(r"^(u\d{7})-s\d+$", expand=False)
    assert owner.equals(events["user_id"])


def test_users_and_items_attributes(tiny_tables, world_end) -> None:
    users, items = tiny_tables.users, tiny_tables.items
    assert set(users["age_bucket"]) <= {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"}
    assert set(users["device"]) <= {"mobile", "desktop", "tablet"}
    assert (users["segment"] == users["country"] + ":" + users["age_bucket"]).all()
    assert users["country"].value_counts(normalize=True).iloc[0] > 0.15  # skewed
    assert items["category"].nunique() >= 20
    assert (items["price"] > 0).all()
    assert 0.85 < items["in_stock"].mean() < 0.99
    assert items["sponsored"].sum() >= 1
    first_words = items["title"].str.split().str[0]
    assert (first_words == items["brand"]).all()
    new_share = (items["created_at"] >= world_end - pd.Timedelta(days=spec_for("tiny").days)).mean()
    assert 0.04 < new_share < 0.2


def test_summary_matches_the_tables(tiny_world: Path, tiny_tables, world_end, world_seed) -> None:
    summary = read_summary(tiny_world)
    events = tiny_tables.events
    assert (summary.kind, summary.size, summary.seed) == ("demo", "tiny", world_seed)
    assert summary.n_events == len(events) and summary.n_users == len(tiny_tables.users)
    assert summary.end_time == world_end
    assert summary.event_counts == events["event_type"].value_counts().to_dict()
    assert json.loads((tiny_world / MANIFEST_FILE).read_text())["n_items"] == len(tiny_tables.items)


def test_read_events_pushes_down_time_filters(tiny_world: Path, tiny_tables, world_end) -> None:
    since, until = world_end - pd.Timedelta(days=3), world_end - pd.Timedelta(days=1)
    got = read_events(tiny_world, columns=["event_id", "timestamp"], since=since, until=until)
    ts = tiny_tables.events["timestamp"]
    assert list(got.columns) == ["event_id", "timestamp"]
    assert len(got) == ((ts >= since) & (ts < until)).sum() > 0
    naive = read_events(tiny_world, columns=["event_id"], since=since.replace(tzinfo=None))
    assert len(naive) == (ts >= since).sum()


def test_cli_prints_the_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str], world_end) -> None:
    main(
        [
            "--size",
            "tiny",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
            "--end-time",
            world_end.isoformat(),
            "--quiet",
        ]
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["seed"] == 3 and printed["n_events"] == len(read_events(tmp_path, columns=["event_id"]))
    assert re.match(r"2024-12-18T00:00:00", printed["start_time"])

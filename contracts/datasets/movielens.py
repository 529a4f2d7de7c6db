"""MovieLens as a world: ratings become click events, movies items, raters users.

Reads a folder the user points at (never downloads, never copies it into the repository) and
detects the layout: ml-100k (``u.data``), ml-1m/10m (``ratings.dat``) or ml-latest/25m
(``ratings.csv``). Each rating is one ``click`` event with ``value`` = rating on ``home_feed`` at
position -1, in session ``{user_id}-{YYYY-MM-DD}``. Cite: F. Maxwell Harper and Joseph A. Konstan.
2015. The MovieLens Datasets: History and Context. ACM TiiS 5, 4, Article 19.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from contracts.datasets.errors import DatasetError
from contracts.datasets.reading import (
    check_header,
    fail_first,
    parse_integers,
    parse_numbers,
    read_delimited,
    read_numeric,
    unix_seconds,
)
from contracts.datasets.tables import age_buckets, interaction_events, numbered_ids, world_tables
from contracts.schemas import UNKNOWN
from contracts.world.io import WorldTables

ML_100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
RATING_RANGE = (0.5, 5.0)
NO_GENRES = "(no genres listed)"
RATING_DTYPES = {"user": "int64", "item": "int64", "rating": "float64", "timestamp": "int64"}
LATIN_1 = "latin-1"  # the 100K and 1M files predate UTF-8 in MovieLens


def load_movielens(path: Path | str) -> WorldTables:
    """All of a MovieLens folder as world tables (see the module docstring for the mapping)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(folder, None, "expected a MovieLens folder (ml-100k, ml-1m or ml-latest layout)")
    if (folder / "u.data").is_file():
        return _ml_100k(folder)
    if (folder / "ratings.dat").is_file():
        return _ml_1m(folder)
    if (folder / "ratings.csv").is_file():
        return _ml_latest(folder)
    raise DatasetError(
        folder,
        None,
        "not a MovieLens folder: no u.data (100K), ratings.dat (1M/10M) or ratings.csv (latest/25M)",
    )


def _clean(frame: pd.DataFrame) -> bool:
    low, high = RATING_RANGE
    return bool(frame["rating"].between(low, high).all() and (frame["timestamp"] >= 0).all())


def _ratings(path: Path, sep: str, header: bool = False) -> pd.DataFrame:
    """Ratings as click events: the fast numeric read, or a line-by-line check that names the bad line."""
    frame = read_numeric(path, sep, RATING_DTYPES, header=header)
    if frame is None or not _clean(frame):
        raw = read_delimited(path, sep, list(RATING_DTYPES), header=header)
        rating = parse_numbers(path, raw, "rating", "rating")
        low, high = RATING_RANGE
        out = (rating < low) | (rating > high)
        fail_first(
            path, raw, out, lambda r: f"rating {raw['rating'].iloc[r]!r} out of range {low:g}..{high:g}"
        )
        frame = pd.DataFrame(
            {
                "user": parse_integers(path, raw, "user", "user id"),
                "item": parse_integers(path, raw, "item", "item id"),
                "rating": rating,
                "timestamp": unix_seconds(path, raw, "timestamp"),
            }
        )
    if frame.empty:
        raise DatasetError(path, None, "no ratings")
    return interaction_events(
        numbered_ids("u", frame["user"]),
        numbered_ids("i", frame["item"]),
        pd.to_datetime(frame["timestamp"], unit="s", utc=True),
        "click",
        frame["rating"].to_numpy(),
    )


def _ids(path: Path, frame: pd.DataFrame, column: str, prefix: str) -> pd.Series:
    return prefix + parse_integers(path, frame, column, f"{column} id").astype(str)


def _first_genre(genres: pd.Series) -> pd.Series:
    first = genres.str.split("|").str[0].str.strip().str.lower()
    return first.where((first != "") & (first != NO_GENRES), UNKNOWN)


def _year_of_title(titles: pd.Series) -> pd.Series:
    """Release date from a title's trailing ``(1995)``: 1 January of that year, else NaT."""
    year = titles.str.extract(r"\((\d{4})\)\s*$", expand=False)
    return pd.to_datetime(year + "-01-01", format="%Y-%m-%d", errors="coerce", utc=True)


def _users(path: Path, frame: pd.DataFrame, age_column: str) -> pd.DataFrame:
    """Raters with an age bucket and the segment ``{age_bucket}:{gender}``."""
    buckets = age_buckets(parse_integers(path, frame, age_column, "age"))
    gender = frame["gender"].str.strip().str.lower()
    return pd.DataFrame(
        {"user_id": _ids(path, frame, "user", "u"), "age_bucket": buckets, "segment": buckets + ":" + gender}
    )


def _ml_100k(folder: Path) -> WorldTables:
    events = _ratings(folder / "u.data", "\t")
    items = users = None
    if (path := folder / "u.item").is_file():
        raw = read_delimited(
            path,
            "|",
            ["item", "title", "release", "video_release", "url", *ML_100K_GENRES],
            encoding=LATIN_1,
            optional={"release", "video_release", "url"},
        )
        flags = raw[list(ML_100K_GENRES)].to_numpy()
        bad = ~np.isin(flags, ("0", "1")).all(axis=1)
        fail_first(path, raw, bad, lambda r: "genre flags must be 0 or 1")
        flagged = flags == "1"
        names = np.array([g.lower() for g in ML_100K_GENRES], dtype=object)
        category = np.where(flagged.any(axis=1), names[flagged.argmax(axis=1)], UNKNOWN)
        items = pd.DataFrame(
            {
                "item_id": _ids(path, raw, "item", "i"),
                "category": category,
                "title": raw["title"],
                "release": pd.to_datetime(raw["release"], format="%d-%b-%Y", errors="coerce", utc=True),
            }
        )
    if (path := folder / "u.user").is_file():
        raw = read_delimited(path, "|", ["user", "age", "gender", "occupation", "zip"], encoding=LATIN_1)
        users = _users(path, raw, "age")
    return world_tables(events, users, items)


def _movies(path: Path, raw: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": _ids(path, raw, "item", "i"),
            "category": _first_genre(raw["genres"]),
            "title": raw["title"].str.strip(),
            "release": _year_of_title(raw["title"]),
        }
    )


def _ml_1m(folder: Path) -> WorldTables:
    events = _ratings(folder / "ratings.dat", "::")
    items = users = None
    if (path := folder / "movies.dat").is_file():
        items = _movies(path, read_delimited(path, "::", ["item", "title", "genres"], encoding=LATIN_1))
    if (path := folder / "users.dat").is_file():
        raw = read_delimited(path, "::", ["user", "gender", "age", "occupation", "zip"], encoding=LATIN_1)
        users = _users(path, raw, "age")  # ages are coded by the lower end of a range (1 = under 18)
    return world_tables(events, users, items)


def _ml_latest(folder: Path) -> WorldTables:
    path = folder / "ratings.csv"
    check_header(path, ("userId", "movieId", "rating", "timestamp"))
    events = _ratings(path, ",", header=True)
    items = None
    if (path := folder / "movies.csv").is_file():
        check_header(path, ("movieId", "title", "genres"))
        raw = read_delimited(path, ",", ["item", "title", "genres"], header=True, quoted=True)
        items = _movies(path, raw)
    return world_tables(events, None, items)

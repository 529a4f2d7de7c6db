"""World tables from a plain list of interactions (ratings, logged clicks): the adapters' common end.

Ids and session ids are built with Arrow compute and kept as Arrow-backed strings, so a 25M-rating
file does not become 100M Python string objects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.schemas import EVENTS_SCHEMA, ITEMS_SCHEMA, NO_POSITION, UNKNOWN, USERS_SCHEMA
from contracts.world.io import EVENT_ID_DIGITS, WorldTables, prefixed_ids
from contracts.world.latent import AGE_BUCKETS

UNDER_18 = "under-18"
_SECONDS_PER_DAY = 86_400
_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}


def numbered_ids(prefix: str, numbers: pd.Series | np.ndarray) -> pa.Array:
    """``prefix`` + the decimal number, e.g. ``u196`` (MovieLens ids are not zero-padded)."""
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(np.asarray(numbers)), pa.string()), "")


def as_strings(values: pd.Series) -> pa.Array:
    return pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string())


def age_buckets(ages: pd.Series) -> pd.Series:
    """Ages in years to the generator's buckets (plus ``under-18``; unknown ages -> ``unknown``)."""
    edges = [-np.inf, 18, 25, 35, 45, 55, 65, np.inf]
    buckets = pd.cut(ages, edges, right=False, labels=[UNDER_18, *AGE_BUCKETS])
    return buckets.astype(object).where(ages.notna(), UNKNOWN)


def _days(timestamp: pd.Series) -> pa.Array:
    """``YYYY-MM-DD`` of each (UTC) timestamp, formatting each distinct day once."""
    seconds = timestamp.to_numpy(dtype="datetime64[s]").astype(np.int64)
    days, index = np.unique(seconds // _SECONDS_PER_DAY, return_inverse=True)
    labels = pd.to_datetime(days * _SECONDS_PER_DAY, unit="s").strftime("%Y-%m-%d")
    return pa.array(np.asarray(labels, dtype=object), type=pa.string()).take(pa.array(index))


def _constant(text: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(text, pa.string()), n)


def interaction_events(
    user_id: pa.Array,
    item_id: pa.Array,
    timestamp: pd.Series,
    event_type: pa.Array | str,
    value: np.ndarray | float,
) -> pd.DataFrame:
    """Events for logged interactions without slates: numbered in file order, one session per user-day."""
    n = len(user_id)
    timestamp = pd.to_datetime(timestamp, utc=True).reset_index(drop=True)
    table = pa.table(
        {
            "event_id": prefixed_ids("e", 0, n, EVENT_ID_DIGITS),
            "user_id": user_id,
            "item_id": item_id,
            "event_type": _constant(event_type, n) if isinstance(event_type, str) else event_type,
            "timestamp": pa.array(timestamp.dt.as_unit("us"), EVENTS_SCHEMA.field("timestamp").type),
            "surface": _constant("home_feed", n),
            "position": pa.array(np.full(n, NO_POSITION, dtype=np.int32)),
            "session_id": pc.binary_join_element_wise(user_id, _days(timestamp), "-"),
            "device": _constant(UNKNOWN, n),
            "value": pa.array(np.broadcast_to(np.asarray(value, dtype=np.float64), n), from_pandas=True),
        },
        schema=EVENTS_SCHEMA,
    )
    return table.to_pandas(types_mapper=_ARROW_STRINGS.get)


def _with_unseen(known: pd.DataFrame | None, key: str, seen: pd.Index) -> pd.DataFrame:
    """Known rows first (their file order), then ids that only appear in the interactions."""
    if known is None:
        return pd.DataFrame({key: seen})
    unseen = seen[~seen.isin(known[key])]
    return pd.concat([known, pd.DataFrame({key: unseen})], ignore_index=True)


def world_tables(
    events: pd.DataFrame, users: pd.DataFrame | None = None, items: pd.DataFrame | None = None
) -> WorldTables:
    """Complete users and items tables for ``events``: missing attributes are ``unknown``.

    ``signup_ts`` is a user's first event; ``created_at`` is an item's ``release`` column (never
    later than its first event), else its first event. Rows without events get the first event overall.
    """
    earliest = events["timestamp"].min()
    first_by_user = events.groupby("user_id", sort=False)["timestamp"].min()
    first_by_item = events.groupby("item_id", sort=False)["timestamp"].min()

    users = _with_unseen(users, "user_id", first_by_user.index)
    for column in ("country", "age_bucket", "device", "segment"):
        users[column] = users[column].fillna(UNKNOWN) if column in users else UNKNOWN
    users["signup_ts"] = users["user_id"].map(first_by_user).fillna(earliest)

    items = _with_unseen(items, "item_id", first_by_item.index)
    for column in ("category", "brand", "title"):
        items[column] = items[column].fillna(UNKNOWN) if column in items else UNKNOWN
    first_seen = items["item_id"].map(first_by_item)
    release = items.pop("release") if "release" in items else first_seen
    created = release.where(~(release > first_seen), first_seen)  # never created after first use
    items["created_at"] = created.fillna(first_seen).fillna(earliest)
    items["price"] = np.nan
    items["in_stock"] = True
    items["sponsored"] = False
    return WorldTables(users=users[USERS_SCHEMA.names], items=items[ITEMS_SCHEMA.names], events=events)

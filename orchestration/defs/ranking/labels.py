"""Ranker training rows from the label window: what was shown, what was engaged, and the session.

Impressions are the negatives; an impression followed by engagement with the same item in the same
session is a positive. A dataset without impressions (MovieLens, review files) has no rows here:
its ranker learns from the replayed candidate pools alone (``ranking.pool``), never from random
catalogue items as negatives, which teach "popular beats random", a contest retrieval already won
(measured on MovieLens 100K: such a ranker ordered the candidates like popularity, NDCG@10 0.19
against 0.43 for retrieval order).
Session features for each row are folded from the events of its session strictly before it, with
the same function the live push path uses, so training sees what serving would have seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.features import SESSION_DEFAULTS
from contracts.schemas import NEGATIVE_EVENTS, POSITIVE_EVENT_WEIGHTS, SURFACES
from contracts.session import next_session_state

ROW_COLUMNS = ("user_id", "item_id", "session_id", "label", "timestamp", "surface", "device", "hour_of_day")


def label_rows(window: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """(user, item, session) rows with ``label``, first timestamp, surface, device and hour; none
    when the window logged no impressions."""
    positive = window["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))
    shown = window["event_type"].isin(list(NEGATIVE_EVENTS))
    if not shown.any():  # engagements without negatives teach no order (module docstring)
        return pd.DataFrame(columns=list(ROW_COLUMNS))
    keyed = window.assign(is_positive=positive)[positive | shown]
    rows = (
        keyed.groupby(["user_id", "item_id", "session_id"], sort=False)
        .agg(
            label=("is_positive", "max"),
            timestamp=("timestamp", "min"),
            surface=("surface", "first"),
            device=("device", "first"),
        )
        .reset_index()
    )
    rows["label"] = rows["label"].astype("int64")
    rows["surface"] = rows["surface"].where(rows["surface"].isin(SURFACES), SURFACES[0])
    rows["hour_of_day"] = rows["timestamp"].dt.hour
    if len(rows) > max_rows:
        rows = rows.sample(n=max_rows, random_state=seed)
    return rows.sort_values("timestamp", kind="stable").reset_index(drop=True)


def session_features_before(window: pd.DataFrame, rows: pd.DataFrame, categories: pd.Series) -> pd.DataFrame:
    """Session state of each row's session just before the row's timestamp."""
    events = window.sort_values(["session_id", "timestamp"], kind="stable")
    category_of = categories.to_dict()
    wanted = rows.assign(_row=np.arange(len(rows))).sort_values(["session_id", "timestamp"], kind="stable")
    states: dict[int, dict] = {}
    by_session = {sid: group for sid, group in events.groupby("session_id", sort=False)}
    for session_id, group in wanted.groupby("session_id", sort=False):
        session_events = by_session.get(session_id)
        state: dict | None = None
        cursor = 0
        ev_times = session_events["timestamp"].to_numpy() if session_events is not None else np.array([])
        ev_types = session_events["event_type"].to_numpy() if session_events is not None else np.array([])
        ev_items = session_events["item_id"].to_numpy() if session_events is not None else np.array([])
        for row, ts in zip(group["_row"].to_numpy(), group["timestamp"].to_numpy(), strict=True):
            while cursor < len(ev_times) and ev_times[cursor] < ts:
                item = ev_items[cursor]
                state = next_session_state(state, ev_types[cursor], item, category_of.get(item, ""))
                cursor += 1
            states[int(row)] = state or {}
    return pd.DataFrame.from_dict(states, orient="index").reindex(range(len(rows)))


def with_session_columns(rows: pd.DataFrame, session: pd.DataFrame) -> pd.DataFrame:
    """Attach session columns, with the defaults of a session that had no earlier events."""
    rows = rows.copy()
    for name, default in SESSION_DEFAULTS.items():
        values = session[name].tolist() if name in session else [None] * len(rows)
        rows[name] = [default if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values]
    return rows


def distinct_row_times(timestamps: pd.Series) -> pd.Series:
    """Timestamps nudged by whole microseconds so that no two rows share one.

    Feast's file offline store silently collapses entity rows that share a join key and an event
    timestamp (feast-dev/feast#6787, open for 0.67), and replay rows all sit at the cut: without
    this, each user (and each item) would keep one of its hundreds of rows. The k-th row at a
    given instant moves k microseconds later, far below the spacing of feature snapshots.
    """
    stamps = pd.to_datetime(timestamps, utc=True)  # impression and replay rows may mix dtypes
    nudge = stamps.groupby(stamps).cumcount().to_numpy()
    return stamps + pd.to_timedelta(nudge, unit="us")

"""Replay rows: the funnel's own candidates at the cut, labelled by the label window.

Logged slates teach the ranker which of the *shown* items were clicked, but in serving it orders
the ~1,000 items retrieval hands it, most of which no logging policy ever showed. These rows close
that gap: for each training user, the candidates the serving funnel retrieves at the cut (the
same ``OfflineFunnel`` the offline evaluation replays), positive where the user went on to engage
with the item in the label window. They are stamped at the cut, so Feast joins the features as
of then, exactly as the replay and the service would see them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from orchestration.defs.common.config import RankerPoolConfig
from orchestration.defs.ranking.labels import ROW_COLUMNS
from orchestration.defs.ranking.replay import DEFAULT_HOUR, EVAL_SURFACE
from training.data.ranking import SAMPLE_WEIGHT

POOL_SESSION_PREFIX = "pool:"
PREFERENCE_SESSION_PREFIX = "pool:liked:"  # replay rows of the preference holdout (also pool rows)
COLUMNS = ROW_COLUMNS  # pool rows are shaped like label rows, plus their sampling weight


def pool_rows(
    candidates_of: Callable[[str], pd.DataFrame],
    devices: pd.Series,
    fresh: dict[str, set[str]],
    users: list[str],
    cut: pd.Timestamp,
    config: RankerPoolConfig,
    seed: int,
) -> pd.DataFrame:
    """Rows shaped like ``labels.label_rows``: the positives in each user's pool (at most
    ``max_positives``), the hardest ``hard_negatives`` by retrieval score and ``random_negatives``
    from the rest, each with its inverse sampling probability (``sample_weight``): the listwise
    loss's sampled-softmax correction.

    ``candidates_of(user)`` is the replayed funnel's ``candidates`` (``item_id`` and
    ``retrieval_score``); ``devices`` maps user to profile device.

    A user whose label-window items were not retrieved teaches nothing about order and is skipped.
    """
    rng = np.random.default_rng(seed)
    frames: list[pd.DataFrame] = []
    for user in users:
        cands = candidates_of(user)
        if cands.empty:
            continue
        positive = cands["item_id"].isin(fresh.get(user, set())).to_numpy()
        if not positive.any():
            continue
        hits = np.flatnonzero(positive)
        if len(hits) > config.max_positives:  # a burst of engagements must not outweigh the rest
            dropped = rng.choice(hits, size=len(hits) - config.max_positives, replace=False)
            kept = np.setdiff1d(np.arange(len(cands)), dropped)
            cands, positive = cands.iloc[kept].reset_index(drop=True), positive[kept]
        order = np.argsort(-cands["retrieval_score"].to_numpy(), kind="stable")
        negatives = order[~positive[order]]
        hard, rest = negatives[: config.hard_negatives], negatives[config.hard_negatives :]
        drawn = rng.choice(rest, size=min(config.random_negatives, len(rest)), replace=False)
        keep = np.concatenate([np.flatnonzero(positive), hard, drawn])
        items = cands["item_id"].to_numpy()[keep]
        # Inverse sampling probability: a drawn negative stands for len(rest) / len(drawn) of them.
        weight = np.ones(len(keep))
        weight[len(keep) - len(drawn) :] = len(rest) / max(len(drawn), 1)
        frames.append(
            pd.DataFrame({"user_id": user, "item_id": items, "label": positive[keep], SAMPLE_WEIGHT: weight})
        )
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, SAMPLE_WEIGHT])
    rows = pd.concat(frames, ignore_index=True)
    return rows.assign(
        session_id=POOL_SESSION_PREFIX + rows["user_id"].astype(str),
        label=rows["label"].astype("int64"),
        timestamp=cut,
        surface=EVAL_SURFACE,
        device=rows["user_id"].map(devices).fillna("").astype(str),
        hour_of_day=DEFAULT_HOUR,
    )[[*COLUMNS, SAMPLE_WEIGHT]]

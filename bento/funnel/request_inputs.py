"""One request's ranker inputs from its candidates, shared by the service and the offline replay."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from contracts.features import ranker_inputs
from training.candidates.cross_scores import CROSS_SCORES


def request_inputs(
    items: pd.DataFrame,
    user: Mapping[str, object],
    cands: pd.DataFrame,
    now_ts: float,
    hour_of_day: int,
    device: object,
) -> np.ndarray:
    """``ranker_inputs`` for one request: the candidates' item features (``items``, rows in
    ``cands`` order), the user's features on every row, each candidate's two-tower and cross scores
    (computed with the retrieval), and the request's time and device (anything but a string:
    unknown). One function, so a request
    means the same to the ranker when it is served and when it is replayed at the cut."""
    raw = items.reset_index(drop=True)
    for name, value in user.items():
        raw[name] = [value] * len(raw)
    for name in ("retrieval_score", *CROSS_SCORES):
        raw[name] = cands[name].to_numpy()
    raw["now_ts"] = now_ts
    raw["hour_of_day"] = hour_of_day
    raw["device"] = device if isinstance(device, str) else ""
    return ranker_inputs(raw)

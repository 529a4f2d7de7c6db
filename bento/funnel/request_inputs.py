"""One request's ranker inputs from its candidates, shared by the service and the offline replay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from contracts.features import ranker_inputs
from training.candidates.cross_scores import CROSS_SCORES

Columns = pd.DataFrame | Mapping[str, Any]  # column name -> one value per candidate


def request_inputs(
    items: Columns,
    user: Mapping[str, object],
    cands: Columns,
    now_ts: float,
    hour_of_day: int,
    device: object,
) -> np.ndarray:
    """``ranker_inputs`` for one request: the candidates' item features (``items``, rows in
    ``cands`` order), the user's features on every row, each candidate's two-tower and cross scores
    (computed with the retrieval), and the request's time and device (anything but a string:
    unknown). One function, so a request means the same to the ranker when it is served and when
    it is replayed at the cut.

    The columns go to ``ranker_inputs`` as arrays and the user's and request's values once, as
    request constants: no frame is built, and the matrix is the one a frame of the same rows gives.
    """
    raw: dict[str, Any] = {name: np.asarray(items[name]) for name in items}
    for name, value in user.items():  # a list feature stays one value (a list) for every row
        raw[name] = value.tolist() if isinstance(value, np.ndarray) else value
    for name in ("retrieval_score", *CROSS_SCORES):
        raw[name] = np.asarray(cands[name])
    raw["now_ts"] = now_ts
    raw["hour_of_day"] = hour_of_day
    raw["device"] = device if isinstance(device, str) else ""
    return ranker_inputs(raw)

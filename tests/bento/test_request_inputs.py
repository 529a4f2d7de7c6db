"""One request's ranker inputs: the candidates' rows carry the user, the scores and the context."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bento.funnel.request_inputs import request_inputs
from contracts.features import RANKER_INPUTS, ranker_inputs
from contracts.schemas import DEVICES
from training.candidates.cross_scores import CROSS_SCORES


def _candidates() -> tuple[pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame(
        {"item_popularity": [5.0, 1.0], "item_price": [10.0, 20.0], "item_category": ["a", "b"]},
        index=pd.Index(["i1", "i2"], name="item_id"),
    )
    cands = pd.DataFrame({"item_id": ["i1", "i2"], "retrieval_score": [0.9, 0.1]})
    for k, name in enumerate(CROSS_SCORES):
        cands[name] = [0.1 * (k + 1), 0.0]
    return items, cands


def test_the_request_matrix_is_ranker_inputs_of_its_rows() -> None:
    items, cands = _candidates()
    user = {"user_clicks_30d": 7, "user_avg_price": 12.0, "user_top_categories": ["a"]}
    got = request_inputs(items, user, cands, now_ts=1e9, hour_of_day=20, device=DEVICES[0])
    scores = {c: cands[c].to_numpy() for c in cands if c != "item_id"}
    raw = items.reset_index(drop=True).assign(
        user_clicks_30d=7, user_avg_price=12.0, now_ts=1e9, hour_of_day=20, device=DEVICES[0], **scores
    )
    raw["user_top_categories"] = [["a"], ["a"]]
    np.testing.assert_array_equal(got, ranker_inputs(raw))
    score = RANKER_INPUTS.index("retrieval_score")
    assert got[0, score] != got[1, score], "each candidate keeps its own score"
    assert got[:, RANKER_INPUTS.index(f"device_{DEVICES[0]}")].tolist() == [1.0, 1.0]


def test_an_unknown_device_sets_no_device_column() -> None:
    items, cands = _candidates()
    got = request_inputs(items, {}, cands, now_ts=1e9, hour_of_day=12, device=float("nan"))
    assert not got[:, [RANKER_INPUTS.index(f"device_{d}") for d in DEVICES]].any()


def test_table_columns_give_the_frame_s_matrix() -> None:
    """What the service passes (the item table's arrays, missing values as NaN and "") gives the
    matrix the replay's frame of the same rows gives: a feature read differently fails here."""
    from bento.item_table import as_column

    items, cands = _candidates()
    items["item_ctr"] = [None, 0.2]
    items["item_sponsored"] = [True, None]
    items.loc["i2", "item_category"] = None
    table = {name: as_column(name, items[name].tolist()) for name in items}
    user = {"user_top_categories": np.array(["b", "a"]), "user_top_category_shares": [0.9, 0.1]}
    user |= {"session_categories": ["b"], "session_last_category": "a", "user_price_p25": None}
    columnar = request_inputs(table, user, dict(cands.items()), now_ts=1e9, hour_of_day=3, device="tablet")
    framed = request_inputs(items, user, cands, now_ts=1e9, hour_of_day=3, device="tablet")
    np.testing.assert_array_equal(columnar, framed)
    affinity = RANKER_INPUTS.index("category_affinity")
    assert columnar[:, affinity].tolist() == [np.float32(0.1), 0.0], "i2's category is unknown"

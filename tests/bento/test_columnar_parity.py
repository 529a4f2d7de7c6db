"""The columnar hot path orders every page as the frame-based path did, on the real tiny world.

For each request the funnel serves, the test rebuilds what the earlier code computed from the same
candidates: item features read straight from Feast into a frame (one row per candidate), the
user's features copied onto every row, ``ranker_inputs`` on that frame, the light cut and the full
ranker on those inputs, then the diversity rules on a frame sorted by pandas. Any difference in a
feature value, a score, the kept set or the order fails it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bento.funnel.ranking as ranking_module
from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.candidate_set import Candidates
from bento.funnel.pipeline import Funnel
from bento.funnel.reasons import ANCHORED_SOURCES
from bento.funnel.rerank import REASONS
from contracts.api import RecommendRequest, RequestContext
from contracts.features import ranker_inputs
from contracts.funnel_config import RulesConfig
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.candidates.cross_scores import CROSS_SCORES
from training.export import load_ranker
from training.light_ranker import keep_top


def frame_inputs(features: OnlineFeatures, user: dict, cands: Candidates, now_ts, hour, device) -> np.ndarray:
    """The earlier ``request_inputs``: a frame of Feast's item rows with the user on every row."""
    raw = features.items(cands.ids()).reset_index(drop=True)  # Feast's values, not the table's
    for name, value in user.items():
        raw[name] = [value] * len(raw)
    for name in ("retrieval_score", *CROSS_SCORES):
        raw[name] = cands[name]
    raw["now_ts"], raw["hour_of_day"] = now_ts, hour
    raw["device"] = device if isinstance(device, str) else ""
    return ranker_inputs(raw)


def frame_diversify(scored: pd.DataFrame, rules: RulesConfig, page_size: int) -> pd.DataFrame:
    """The earlier ``diversify`` (the flat cap over the whole window), on a frame sorted by pandas."""
    ordered = scored.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    categories, sponsored = ordered["category"].to_numpy(), ordered["sponsored"].to_numpy(dtype=bool)
    chosen: list[int] = []
    held: list[int] = []
    n_sponsored, window = 0, max(rules.category_window - 1, 0)
    for row in range(len(ordered)):
        if len(chosen) >= page_size:
            break
        recent = categories[chosen[max(len(chosen) - window, 0) :]] if window else categories[:0]
        if int((recent == categories[row]).sum()) >= rules.max_per_category or (
            sponsored[row] and n_sponsored >= rules.max_sponsored
        ):
            held.append(row)
            continue
        n_sponsored += int(sponsored[row])
        chosen.append(row)
    chosen += [row for row in held if not sponsored[row]][: max(page_size - len(chosen), 0)]
    page = ordered.iloc[chosen].copy()
    page["reason"] = page["source"].map(REASONS).fillna(REASONS["popular"])
    return page


@pytest.fixture(scope="module")
def world(tiny_platform):
    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    bundle.ranker_enabled = True  # the ranked path is under test, whatever the tiny gate decided
    features = OnlineFeatures(open_store(settings))
    features.load_items(bundle.catalogue.index.tolist())
    return settings, bundle, features, load_ranker(Path(bundle.root) / "ranker")


def test_served_pages_match_the_frame_path(world, monkeypatch) -> None:
    settings, bundle, features, ranker = world
    served = settings.funnel()
    # The flat cap: the calibrated one (tests/bento/test_funnel_rules.py) is not the path under test.
    surfaces = {
        name: surface.model_copy(update={"rules": surface.rules.model_copy(update={"calibrated": False})})
        for name, surface in served.surfaces.items()
    }
    config = served.model_copy(update={"surfaces": surfaces})
    seen: dict = {}
    columnar = ranking_module.request_inputs

    def spied(items, user, cands, now_ts, hour, device):
        matrix = columnar(items, user, cands, now_ts, hour, device)
        seen["inputs"] = (matrix, frame_inputs(features, user, cands, now_ts, hour, device), cands)
        return matrix

    monkeypatch.setattr(ranking_module, "request_inputs", spied)
    funnel = Funnel(bundle, features, ranker.score, config)
    users = [*sorted(bundle.history)[:20], "never-seen-user"]
    contexts = [RequestContext(), RequestContext(device="mobile", hour_of_day=7)]
    pages = 0
    for k, user in enumerate(users):
        request = RecommendRequest(user_id=user, page_size=12, context=contexts[k % 2])
        reply = funnel.recommend(request)
        assert reply.metadata.fallback_level == 0, reply.metadata
        served, expected, cands = seen.pop("inputs")
        np.testing.assert_array_equal(served, expected)  # the same features, to the bit
        light = bundle.light_ranker.score(expected, request.surface)
        full_rank = config.surface(request.surface).full_rank
        kept = keep_top(light, full_rank) if 0 < full_rank < len(cands) else np.arange(len(cands))
        scored = cands.take(kept).frame()
        scored["score"] = ranker.score(expected[kept], request.surface)
        meta = bundle.catalogue.reindex(scored["item_id"])
        scored["category"] = meta["category"].fillna("unknown").to_numpy()
        scored["sponsored"] = meta["sponsored"].fillna(False).astype(bool).to_numpy()
        page = frame_diversify(scored, config.surface(request.surface).rules, request.page_size)
        assert [i.item_id for i in reply.items] == page["item_id"].tolist()
        assert [i.score for i in reply.items] == [float(s) for s in page["score"]]
        assert [(i.category, i.is_sponsored, i.source) for i in reply.items] == list(
            zip(page["category"], page["sponsored"].astype(bool), page["source"], strict=True)
        )
        for item, reason in zip(reply.items, page["reason"], strict=True):  # anchored, else the source's
            if item.anchor_item_id is not None:
                assert item.source in ANCHORED_SOURCES and item.reason.startswith("Because you engaged with")
            elif item.source != "trending":
                assert item.reason == reason
        pages += 1
    assert pages == len(users)

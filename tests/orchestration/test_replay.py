"""The offline replay at the cut: the service's retrieval over the bundle as it stood then."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from bento.funnel.fusion import load_fusion_weights
from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.features.assets import load_split
from orchestration.defs.ranking.replay import (
    label_window_positives,
    load_replay,
)
from orchestration.defs.ranking.replay_scores import evaluate_replay
from training.candidates.cross_scores import ALS_SCORE, EASE_SCORE, ITEM_KNN_SCORE
from training.config import TrendingConfig


def test_the_replay_retrieves_what_existed_at_the_cut_and_ranks_it(tiny_platform) -> None:
    platform, _ = tiny_platform
    settings = platform.settings
    cut = load_split(platform).cut
    events = read_table(settings.paths, "events")
    seen, fresh = label_window_positives(events, cut)
    funnel = load_replay(settings, cut, events, with_ranker=True)
    created_later = set(funnel.bundle.catalogue.index) - set(funnel.item_stats.index)
    assert created_later, "the tiny world adds items after the cut"
    user = max(seen, key=lambda u: len(seen[u]))
    cands = funnel.candidates(user)
    items = set(cands["item_id"])
    assert 0 < len(cands) <= funnel.surface.max_candidates
    assert not items & seen[user], "what the user engaged with before the cut is never a candidate"
    assert not items & created_later, "an item created after the cut did not exist at it"
    for score in (ITEM_KNN_SCORE, EASE_SCORE, ALS_SCORE):
        assert (cands[score] != 0).any(), f"the at-cut {score} source scores the candidates"
    tuned = load_fusion_weights(staging(settings.paths).root)
    assert tuned is not None and funnel.bundle.fusion_weights == tuned, "retrieval order is the tuned one"
    ranked = funnel.rank(user, 10)
    assert len(ranked) == 10 and set(ranked) <= items
    test = {u: items for u, items in list(fresh.items())[:30]}
    scores = evaluate_replay(funnel, test)
    assert len(scores.gains) == len(test)
    gap = scores.models["ranked"]["ndcg@10"] - scores.models["retrieval_order"]["ndcg@10"]
    assert np.mean(scores.gains) == pytest.approx(gap), "the gate's per-user gains are the means' difference"
    fused_top = cands["item_id"].to_numpy()[np.argsort(-cands["fused_score"].to_numpy(), kind="stable")]
    assert funnel.rank(user, 10, use_ranker=False) == fused_top[:10].tolist()


def test_the_non_personal_lists_are_as_of_the_cut(tiny_platform) -> None:
    """Trending, segment, popular and new-arrival lists see only what happened before the cut:
    computed as of the end they would hand the replay, and the ranker's rows, the label window."""
    platform, _ = tiny_platform
    settings = platform.settings
    cut = load_split(platform).cut
    events = read_table(settings.paths, "events")
    funnel = load_replay(settings, cut, events, with_ranker=False)
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    positive = events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))
    engaged_before = set(events.loc[positive & (stamps < cut), "item_id"])
    trending = funnel.bundle.sources.trending
    assert trending is not None and abs(pd.Timestamp(trending.as_of) - cut) < pd.Timedelta(milliseconds=1)
    window = pd.Timedelta(hours=TrendingConfig().window_hours)
    recent = set(events.loc[positive & (stamps < cut) & (stamps >= cut - window), "item_id"])
    assert set(trending.overall) <= recent  # empty when the hour before the cut was quiet
    segments = funnel.bundle.segment_lists
    assert segments and all(set(items) <= engaged_before for items in segments.values())
    assert set(funnel.popular[:50]) <= engaged_before
    created = pd.to_datetime(funnel.bundle.catalogue["created_at"], utc=True)
    editorial = funnel.bundle.sources.editorial
    assert editorial is not None and editorial.new_overall
    assert (created.loc[editorial.new_overall] <= cut).all(), "no item from after the cut is new"

    surface = funnel.surface
    only_lists = {name: 0 for name in surface.candidates.model_dump()}
    only_lists.update(trending=20, segment=20, new_arrivals=20)
    home = surface.model_copy(update={"candidates": surface.candidates.model_copy(update=only_lists)})
    funnel = replace(funnel, config=funnel.config.model_copy(update={"surfaces": {"home_feed": home}}))
    user = next(u for u in funnel.seen if funnel._profile(u, "segment"))
    sources = set(funnel.candidates(user)["source"])
    expected = {"segment", "new_arrival"} | ({"trending"} if trending.overall else set())
    assert expected <= sources, "the replay serves the lists it holds"

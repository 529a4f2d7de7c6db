"""The offline replay at the cut: the service's retrieval over the bundle as it stood then."""

from __future__ import annotations

import numpy as np

from orchestration.defs.common.warehouse import read_table
from orchestration.defs.features.assets import load_split
from orchestration.defs.ranking.replay import (
    LEAKY_SOURCES,
    label_window_positives,
    load_replay,
    recent_before,
)
from training.candidates.cross_scores import ALS_SCORE, EASE_SCORE, ITEM_KNN_SCORE


def test_the_replay_retrieves_what_existed_at_the_cut_and_ranks_it(tiny_platform) -> None:
    platform, _ = tiny_platform
    settings = platform.settings
    cut = load_split(platform).cut
    events = read_table(settings.paths, "events")
    seen, _ = label_window_positives(events, cut)
    funnel = load_replay(settings, cut, seen, recent_before(events, cut), with_ranker=True)
    created_later = set(funnel.bundle.catalogue.index) - set(funnel.item_stats.index)
    assert created_later, "the tiny world adds items after the cut"
    user = max(seen, key=lambda u: len(seen[u]))
    cands = funnel.candidates(user)
    items = set(cands["item_id"])
    assert 0 < len(cands) <= funnel.surface.max_candidates
    assert not items & seen[user], "what the user engaged with before the cut is never a candidate"
    assert not items & created_later, "an item created after the cut did not exist at it"
    assert not set(cands["source"]) & {*LEAKY_SOURCES, "new_arrival"}
    for score in (ITEM_KNN_SCORE, EASE_SCORE, ALS_SCORE):
        assert (cands[score] != 0).any(), f"the at-cut {score} source scores the candidates"
    ranked = funnel.rank(user, 10)
    assert len(ranked) == 10 and set(ranked) <= items
    fused_top = cands["item_id"].to_numpy()[np.argsort(-cands["fused_score"].to_numpy(), kind="stable")]
    assert funnel.rank(user, 10, use_ranker=False) == fused_top[:10].tolist()

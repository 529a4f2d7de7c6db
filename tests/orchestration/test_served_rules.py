"""The quality bench's uncapped row: the served funnel with its diversity cap lifted, nothing else."""

from __future__ import annotations

import pandas as pd

from bento.funnel.rerank import diversify
from contracts.funnel_config import FUNNEL_FILE, load_funnel_config
from orchestration.defs.evaluation.served import without_diversity_cap


def test_lifting_the_cap_leaves_the_score_order_and_the_sponsored_cap() -> None:
    config = load_funnel_config(FUNNEL_FILE)
    lifted = without_diversity_cap(config)
    for name, surface in config.surfaces.items():
        rules = lifted.surfaces[name].rules
        assert rules.max_per_category == surface.rules.category_window
        assert rules.max_sponsored == surface.rules.max_sponsored
        assert lifted.surfaces[name].candidates == surface.candidates
    assert lifted.history == config.history and config.surfaces["home_feed"].rules.max_per_category == 3
    scored = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(8)],
            "category": ["drama"] * 6 + ["comedy"] * 2,
            "score": [8.0, 7, 6, 5, 4, 3, 2, 1],
            "source": "ease",
            "sponsored": False,
        }
    )
    capped = diversify(scored, config.surface("home_feed").rules, 5)["item_id"].tolist()
    assert capped == ["i0", "i1", "i2", "i6", "i7"], "the served rule: 3 of a category in 10"
    uncapped = diversify(scored, lifted.surface("home_feed").rules, 5)["item_id"].tolist()
    assert uncapped == ["i0", "i1", "i2", "i3", "i4"]

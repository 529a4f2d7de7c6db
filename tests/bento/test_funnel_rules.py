"""Pure ranking logic: candidate merge, diversity caps, fallback choice."""

import pandas as pd

from bento.funnel.candidates import merge_sources
from bento.funnel.fallback import L3_SEGMENT, L4_GLOBAL, fallback_items
from bento.funnel.rerank import category_caps, diversify, history_taste
from contracts.funnel_config import RulesConfig


def test_merge_dedups_keeps_most_personal_source_and_drops_excluded() -> None:
    merged = merge_sources(
        {"popular": ["a", "b", "c"], "collaborative": ["c", "d"], "trending": ["a", "x"]}, excluded={"x"}
    )
    assert merged["item_id"].tolist() == ["c", "d", "a", "b"]
    assert dict(zip(merged["item_id"], merged["source"], strict=True)) == {
        "c": "collaborative",
        "d": "collaborative",
        "a": "trending",
        "b": "popular",
    }


def test_merge_of_nothing_is_an_empty_frame() -> None:
    assert merge_sources({"popular": []}).empty


def scored(categories: list[str], sponsored: list[bool] | None = None) -> pd.DataFrame:
    n = len(categories)
    return pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n)],
            "score": [1.0 - k / n for k in range(n)],
            "category": categories,
            "sponsored": sponsored or [False] * n,
            "source": ["collaborative"] * n,
        }
    )


def test_diversity_cap_limits_a_category_in_the_window() -> None:
    page = diversify(scored(["a"] * 6 + ["b", "c", "d", "e"]), RulesConfig(max_per_category=2), page_size=6)
    assert page["category"].tolist()[:6].count("a") <= 2
    assert page["position"].tolist() == list(range(1, 7))
    assert page["reason"].notna().all()


def test_a_calibrated_cap_lets_a_category_fill_its_share_of_the_users_taste() -> None:
    candidates = scored(["drama"] * 8 + ["comedy", "horror", "war", "noir"])
    rules = RulesConfig(max_per_category=3, category_window=10)
    taste = history_taste(["drama"] * 6 + ["comedy"] * 3 + ["horror"])
    assert taste == {"drama": 0.6, "comedy": 0.3, "horror": 0.1}
    assert category_caps(rules, taste) == {"drama": 6}, "only a share above the flat cap raises it"
    calibrated = diversify(candidates, rules, 10, taste)["category"].tolist()
    assert calibrated.count("drama") == 6 and calibrated[:6] == ["drama"] * 6
    flat = diversify(candidates, rules.model_copy(update={"calibrated": False}), 10, taste)
    assert flat["category"].tolist()[:7].count("drama") == 3, "the flat cap ignores taste"
    assert diversify(candidates, rules, 10)["category"].tolist()[:7].count("drama") == 3, "no history"
    assert history_taste([]) == {} and category_caps(rules, {}) == {}


def test_the_cap_counts_every_earlier_position_of_the_window() -> None:
    # Six dramas, then other categories: positions 1-10 may hold three dramas, not more (an earlier
    # version looked back only window - len(page) positions once the page passed half the window).
    page = diversify(scored(["drama"] * 6 + ["a", "b", "c", "d", "e", "f", "g"]), RulesConfig(), 10)
    assert page["category"].tolist().count("drama") == 3


def test_cap_never_leaves_an_empty_slot() -> None:
    page = diversify(scored(["a"] * 8), RulesConfig(max_per_category=2), page_size=5)
    assert len(page) == 5


def test_sponsored_items_are_capped() -> None:
    page = diversify(
        scored(["a", "b", "c", "d"], [True, True, False, False]), RulesConfig(max_sponsored=1), 4
    )
    assert int(page["sponsored"].sum()) == 1


def test_fallback_prefers_segment_then_tops_up_from_global() -> None:
    answer = fallback_items({"popular": ["p1", "p2", "p3"]}, {"s": ["s1"]}, "s", excluded={"p1"}, page_size=3)
    assert answer.items == ["s1", "p2", "p3"]
    assert answer.level == L3_SEGMENT


def test_fallback_is_never_empty_even_when_everything_is_excluded() -> None:
    answer = fallback_items({"popular": ["p1", "p2"]}, {}, None, excluded={"p1", "p2"}, page_size=2)
    assert answer.items == ["p1", "p2"]
    assert answer.level == L4_GLOBAL

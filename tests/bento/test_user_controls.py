"""Users in control: blocks, "not interested" and the personalisation opt-out, from the store to
the page, on the real tiny bundle and Feast store; and reasons that name their anchor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bento.bundle import ServingBundle
from bento.caching import TTLCache
from bento.controls.store import UserControlStore
from bento.features import OnlineFeatures
from bento.funnel.fallback import L4_GLOBAL
from bento.funnel.pipeline import Funnel
from bento.funnel.reasons import anchored, nearest_seeds
from contracts import slis
from contracts.api import RecommendedItem, RecommendRequest, RelatedRequest
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.export import load_ranker


def test_a_write_by_one_worker_holds_on_the_others_next_lookup(tmp_path: Path) -> None:
    mine, theirs = UserControlStore(tmp_path / "c.db"), UserControlStore(tmp_path / "c.db")
    assert theirs.of("u1").empty  # memoised: the other worker's write must still be seen
    mine.block("u1", "item", "i1")
    mine.block("u1", "category", "books")
    mine.block("u1", "item", "i2", why="not_interested")
    seen = theirs.of("u1")
    assert seen.items == {"i1", "i2"} and seen.categories == {"books"} and seen.not_interested == {"i2"}
    mine.personalise("u1", enabled=False)
    assert theirs.of("u1").opted_out
    assert mine.unblock("u1", "item", "i1").items == {"i2"}
    assert theirs.of("u1").items == {"i2"}
    assert theirs.forget("u1") == 3, "the category block, the not-interested mark, the opt-out"
    assert mine.of("u1").empty and theirs.of("u1").empty
    assert mine.of("u2").empty, "someone else's controls are untouched"


@pytest.fixture(scope="module")
def funnel_parts(tiny_platform):
    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    ranker = load_ranker(Path(bundle.root) / "ranker")
    return bundle, OnlineFeatures(open_store(settings)), ranker, settings.funnel()


def funnel_with(parts, store: UserControlStore, cache: bool = False) -> Funnel:
    bundle, features, ranker, config = parts
    results = TTLCache(1000, 60) if cache else None
    return Funnel(bundle, features, ranker.score, config, results=results, controls=store.of)


def page(funnel: Funnel, user: str, size: int = 10) -> list[RecommendedItem]:
    reply = funnel.recommend(RecommendRequest(user_id=user, page_size=size))
    assert len(reply.items) == size, "never an empty slot"
    return reply.items


def test_blocked_items_and_categories_are_never_shown_again(funnel_parts, tmp_path: Path) -> None:
    store = UserControlStore(tmp_path / "controls.db")
    funnel = funnel_with(funnel_parts, store)
    user = sorted(funnel_parts[0].history)[2]
    before = page(funnel, user)
    item, category = before[0].item_id, before[1].category
    assert category and category != "unknown"
    store.block(user, "item", item)
    store.block(user, "category", category)
    after = page(funnel, user)
    assert item not in [i.item_id for i in after]
    assert category not in [i.category for i in after]
    other = page(funnel, sorted(funnel_parts[0].history)[3])
    assert other, "another user's pages are theirs"
    # The fallback lists respect the blocks too (the funnel failing: the lists answer).
    broken = funnel_with(funnel_parts, store)
    broken.ranking = None  # type: ignore[assignment]  # any stage raising: the lists answer
    broken.bundle = ServingBundle(**{**vars(funnel_parts[0]), "ranker_enabled": True})
    fallback = broken.recommend(RecommendRequest(user_id=user, page_size=10))
    assert fallback.metadata.fallback_level >= 2 and len(fallback.items) == 10
    assert item not in [i.item_id for i in fallback.items]
    assert category not in [i.category for i in fallback.items]


def test_a_cached_page_with_a_newly_blocked_item_is_not_served(funnel_parts, tmp_path: Path) -> None:
    store = UserControlStore(tmp_path / "controls.db")
    worker_b = funnel_with(funnel_parts, UserControlStore(tmp_path / "controls.db"), cache=True)
    user = sorted(funnel_parts[0].history)[4]
    cached = page(worker_b, user)
    assert worker_b.recommend(RecommendRequest(user_id=user, page_size=10)).metadata.cache_hit
    store.block(user, "item", cached[0].item_id)  # through the other worker's connection
    again = worker_b.recommend(RecommendRequest(user_id=user, page_size=10))
    assert not again.metadata.cache_hit and cached[0].item_id not in [i.item_id for i in again.items]


def test_personalisation_off_serves_the_global_list_and_on_again_restores(funnel_parts, tmp_path) -> None:
    store = UserControlStore(tmp_path / "controls.db")
    funnel = funnel_with(funnel_parts, store, cache=True)
    user = sorted(funnel_parts[0].history)[5]
    personal = page(funnel, user)
    store.personalise(user, enabled=False)
    reply = funnel.recommend(RecommendRequest(user_id=user, page_size=10))
    meta = reply.metadata
    assert (meta.fallback_level, meta.fallback_kind) == (L4_GLOBAL, slis.PERSONALISATION_OFF)
    assert not meta.cache_hit and len(reply.items) == 10
    popular = [i for i in funnel_parts[0].lists["popular"] if i not in funnel_parts[0].unavailable()]
    assert [i.item_id for i in reply.items] == popular[:10], "the global list: none of the user's data"
    store.personalise(user, enabled=True)
    assert [i.item_id for i in page(funnel, user)] == [i.item_id for i in personal]


def test_related_items_respect_the_asking_users_blocks(funnel_parts, tmp_path: Path) -> None:
    store = UserControlStore(tmp_path / "controls.db")
    funnel = funnel_with(funnel_parts, store)
    anchor = str(funnel_parts[0].catalogue.index[0])
    first = funnel.related(RelatedRequest(item_id=anchor, user_id="someone", page_size=8)).items
    store.block("someone", "item", first[0].item_id)
    store.block("someone", "category", first[1].category or "")
    after = funnel.related(RelatedRequest(item_id=anchor, user_id="someone", page_size=8)).items
    assert first[0].item_id not in [i.item_id for i in after]
    assert first[1].category not in [i.category for i in after]
    anonymous = funnel.related(RelatedRequest(item_id=anchor, page_size=8)).items
    assert [i.item_id for i in anonymous] == [i.item_id for i in first], "no user: nobody's blocks"


def test_item_to_item_picks_name_their_anchor(funnel_parts) -> None:
    funnel = funnel_with(funnel_parts, UserControlStore(Path(load_settings().paths.home) / "anchors.db"))
    bundle = funnel_parts[0]
    users = sorted(bundle.history)[:20]
    anchored_items = [i for user in users for i in page(funnel, user) if i.anchor_item_id is not None]
    assert anchored_items, "twenty users' personal picks name the item they are like"
    for item in anchored_items:
        assert item.reason.startswith("Because you engaged with ")
        title = bundle.titles([item.anchor_item_id])[0]
        assert item.reason.endswith(title or item.anchor_item_id)


def test_the_anchor_is_the_most_similar_seed_and_only_item_sources_are_anchored() -> None:
    items = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    seeds = np.array([[0.0, 2.0], [3.0, 0.1], [5.0, 5.0]], np.float32)
    nearest = nearest_seeds(items, np.array([True, True, False]), seeds, np.array([True, True, False]))
    assert nearest.tolist() == [1, 0, -1], "cosine, not length; unknown seeds and items never anchor"

    def item(source: str, category: str = "books") -> RecommendedItem:
        return RecommendedItem(
            item_id="x",
            score=0.5,
            reason="r",
            position=1,
            is_sponsored=False,
            category=category,
            source=source,
        )

    page_ = [
        item("content"),
        item("trending"),
        item("segment"),
        item("item_knn"),
        item("trending", "unknown"),
    ]
    out = anchored(page_, ["a", "b", "c", None, None], ["Dune", None, None, None, None])
    assert out[0].reason == "Because you engaged with Dune" and out[0].anchor_item_id == "a"
    assert out[1].reason == "Trending in books" and out[1].anchor_item_id is None
    assert out[2].reason == "r", "popular with the user's segment: no item of theirs to name"
    assert out[3].reason == "r", "no anchor found: the source's words"
    assert out[4].reason == "r", "trending in an unknown category: the source's words"

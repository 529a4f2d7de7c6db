"""Every retrieval source over a real tiny bundle, a new item on its first day, and the swap of a
rebuilt index published by the scheduled job."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.pipeline import Funnel
from bento.funnel.retrieval import RetrievalContext, gather_sources
from bento.live_index import LiveIndexWatcher
from contracts.api import RecommendRequest, RelatedRequest
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.candidates.cross_scores import recent_items
from training.export import load_ranker
from training.index.faiss_index import ItemIndex
from training.index.publish import publish


@pytest.fixture
def bundle(tiny_platform) -> ServingBundle:
    return ServingBundle.load(load_settings().paths.artifacts / "staging")


def funnel(bundle: ServingBundle) -> Funnel:
    settings = load_settings()
    ranker = load_ranker(Path(bundle.root) / "ranker")
    config = settings.funnel()
    return Funnel(bundle, OnlineFeatures(open_store(settings)), ranker.score, config)


def test_every_source_answers_for_a_user_with_history(bundle: ServingBundle) -> None:
    assert bundle.sources.content is not None and bundle.sources.co_interaction is not None
    assert bundle.sources.trending is not None and bundle.sources.editorial is not None
    assert bundle.sources.item_knn is not None
    user = max(bundle.history, key=lambda u: len(bundle.history[u]))
    history = bundle.history[user]
    recent = bundle.recent[user]
    assert set(recent) == history, "the newest-first history holds every engagement of a light user"
    counts = load_settings().funnel().surface("home_feed").candidates.model_dump()
    context = RetrievalContext(
        surface="home_feed",
        query=bundle.user_vector(user),
        session_items=[],
        recent_items=recent_items([], recent, load_settings().funnel().history.seed_items),
        history=recent,
        categories=[],
        segment="",
    )
    overfetch = load_settings().funnel().history.overfetch
    sources = gather_sources(bundle, context, counts, set(history), overfetch).answers
    for name in ("collaborative", "item_knn", "co_interaction", "content", "trending", "popular"):
        assert sources.get(name), f"{name} gave no candidates"
        assert len(sources[name]) <= counts[name]
    personal = set(sources["content"]) | set(sources["co_interaction"]) | set(sources["item_knn"])
    assert not personal & history, "seen items excluded"
    assert "session" not in sources, "no live session, no session source"


def test_the_collaborative_source_fills_its_count_past_excluded_items(bundle: ServingBundle) -> None:
    user = next(iter(bundle.user_positions))
    query = bundle.user_vector(user)
    nearest = bundle.search(query[None, :], 30)[0][0]
    excluded = set(nearest[:20])  # the user has seen the 20 items nearest to them
    context = RetrievalContext("home_feed", query, [], [], [], [], "")
    sources = gather_sources(bundle, context, {"collaborative": 20}, excluded, overfetch=2).answers
    assert len(sources["collaborative"]) == 20, "excluded neighbours must not shrink the list"
    assert not set(sources["collaborative"]) & excluded
    assert sources["collaborative"][:10] == nearest[20:30], "the next-nearest, in index order"


def test_a_new_item_is_retrievable_from_its_side_features_on_day_one(bundle: ServingBundle) -> None:
    anchor = str(bundle.catalogue.index[0])
    row = bundle.catalogue.loc[anchor]
    attributes = {k: row[k] for k in ("category", "brand", "title", "price", "in_stock", "sponsored")}
    vector, _ = bundle.item_vectors([anchor])
    bundle.put_item("brand-new", attributes, vector[0] * 0.99)  # a near twin of the anchor
    assert "brand-new" in bundle.sources.content.neighbours(anchor, 10)  # type: ignore[union-attr]
    related = funnel(bundle).related(RelatedRequest(item_id=anchor, page_size=20))
    assert "brand-new" in [item.item_id for item in related.items]


def test_a_published_rebuild_is_swapped_in_and_keeps_api_items(bundle: ServingBundle, tmp_path: Path) -> None:
    vector, _ = bundle.item_vectors([str(bundle.catalogue.index[1])])
    bundle.put_item(
        "api-item", bundle.catalogue.iloc[1][["category", "brand", "title", "price"]].to_dict(), vector[0]
    )
    dropped = str(bundle.catalogue.index[2])  # say it was deleted before the rebuild
    keep = [i for i in bundle.item_positions.index if i not in {dropped, "api-item"}]
    rebuilt = ItemIndex.build(keep, bundle.item_embeddings[bundle.item_positions[keep].to_numpy()])

    def write(directory: Path) -> dict:
        rebuilt.save(directory / "items")
        return {"items": rebuilt.size}

    watcher = LiveIndexWatcher(bundle, tmp_path)
    assert not watcher.poll(), "nothing published for this model version yet"
    publish(tmp_path, bundle.model_version, write)
    assert watcher.poll() and not watcher.poll(), "swapped once"
    assert bundle.index.size == rebuilt.size + 1, "the rebuilt index plus the API item it predates"
    assert "api-item" in bundle.index and dropped not in bundle.index
    ids, _ = bundle.search(vector, 5)
    assert "api-item" in ids[0]
    reply = funnel(bundle).recommend(RecommendRequest(user_id=next(iter(bundle.history)), page_size=10))
    assert reply.metadata.fallback_level == 0 and len(reply.items) == 10
    assert np.isfinite([item.score for item in reply.items]).all()

"""Two ranking stages over a real tiny bundle: the light model cuts, the full model orders the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bento.bundle import ServingBundle
from bento.features import OnlineFeatures
from bento.funnel.pipeline import Funnel
from contracts.api import RecommendRequest
from contracts.settings import load_settings
from feature_repo.store import open_store
from training.export import load_ranker


def test_the_light_stage_passes_only_full_rank_candidates_to_the_ranker(tiny_platform) -> None:
    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    bundle.ranker_enabled = True  # the stages under test run whatever the tiny world's gate decided
    assert bundle.light_ranker is not None, "the ranking asset exports the light stage too"
    ranker = load_ranker(Path(bundle.root) / "ranker")
    seen: list[int] = []

    def score(x: np.ndarray, surface: str) -> np.ndarray:
        seen.append(len(x))
        return ranker.score(x, surface)

    config = settings.funnel()
    funnel = Funnel(bundle, OnlineFeatures(open_store(settings)), score, config)
    user = next(iter(sorted(bundle.history)))
    reply = funnel.recommend(RecommendRequest(user_id=user, page_size=10))

    keep = config.surface("home_feed").full_rank
    meta = reply.metadata
    assert meta.fallback_level == 0 and len(reply.items) == 10
    assert meta.candidates_retrieved > keep, "the tiny world retrieves more than the cut"
    assert seen == [keep] and meta.candidates_scored == keep
    scores = [item.score for item in reply.items]
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_an_engaged_item_is_hidden_before_its_session_push_lands(tiny_platform) -> None:
    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    ranker = load_ranker(Path(bundle.root) / "ranker")
    config = settings.funnel()
    funnel = Funnel(bundle, OnlineFeatures(open_store(settings)), ranker.score, config)
    user = sorted(bundle.history)[1]
    first = funnel.recommend(RecommendRequest(user_id=user, page_size=10))
    clicked = first.items[0].item_id
    funnel.note_events(user, [clicked])  # acknowledged; the session updater has not pushed yet
    after = funnel.recommend(RecommendRequest(user_id=user, page_size=10))
    assert clicked not in [item.item_id for item in after.items] and len(after.items) == 10
    funnel.erase_user(user)
    assert funnel.just_engaged.get(user) is None, "a forgotten user's recent engagements go too"


def test_fused_retrieval_order_agrees_with_the_signals_and_ignores_absent_ones() -> None:
    from bento.funnel.candidates import fused_retrieval_score

    two_tower = np.array([0.9, 0.1, 0.5, 0.3])
    knn = np.array([0.8, 0.0, 0.6, 0.1])
    absent = np.zeros(4)  # a source the bundle lacks scores nothing: it must not flatten the order
    fused = fused_retrieval_score([two_tower, knn, absent])
    assert fused.argsort()[::-1].tolist() == [0, 2, 3, 1]
    assert fused.min() >= 0 and fused.max() <= 1
    assert fused_retrieval_score([absent, absent]).tolist() == [0.0] * 4
    disagree = fused_retrieval_score([np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    assert disagree[0] == disagree[1], "two signals in full disagreement tie"


def test_under_load_a_page_retrieves_only_the_reduced_candidates(tiny_platform) -> None:
    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    ranker = load_ranker(Path(bundle.root) / "ranker")
    base = settings.funnel()
    reduced = 40
    config = base.model_copy(
        update={"degradation": base.degradation.model_copy(update={"reduced_candidates": reduced})}
    )
    funnel = Funnel(bundle, OnlineFeatures(open_store(settings)), ranker.score, config)
    request = RecommendRequest(user_id=sorted(bundle.history)[2], page_size=10)
    normal = funnel.recommend(request)
    shrunk = funnel.recommend(request, reduced=True)
    assert normal.metadata.candidates_retrieved > reduced, "the tiny world retrieves more than the cut"
    assert shrunk.metadata.candidates_retrieved == reduced
    assert shrunk.metadata.fallback_level == 0 and len(shrunk.items) == 10


def test_each_page_says_where_its_time_went(tiny_platform) -> None:
    """``stage_ms``: this request's milliseconds per stage, named as the per-stage histogram's
    ``stage`` label and reported to it; a cached answer ran no stage."""
    from bento.caching import TTLCache
    from contracts.slis import STAGES

    settings = load_settings()
    bundle = ServingBundle.load(settings.paths.artifacts / "staging")
    bundle.ranker_enabled = True
    ranker = load_ranker(Path(bundle.root) / "ranker")
    observed: list[tuple[str, str, float]] = []
    funnel = Funnel(
        bundle,
        OnlineFeatures(open_store(settings)),
        ranker.score,
        settings.funnel(),
        results=TTLCache(10, 60),
        on_stage=lambda stage, surface, seconds: observed.append((stage, surface, seconds)),
    )
    request = RecommendRequest(user_id=sorted(bundle.history)[2], page_size=10)
    reply = funnel.recommend(request)
    stage_ms = reply.metadata.stage_ms
    assert reply.metadata.fallback_level == 0
    assert list(stage_ms) == list(STAGES), "every stage of a level-0 page, in order"
    assert all(ms >= 0 for ms in stage_ms.values())
    assert [(stage, surface) for stage, surface, _ in observed] == [(s, "home_feed") for s in STAGES]
    assert [round(seconds * 1000, 3) for *_, seconds in observed] == list(stage_ms.values())
    assert sum(stage_ms.values()) <= reply.metadata.latency_ms
    cached = funnel.recommend(request)
    assert cached.metadata.cache_hit and cached.metadata.stage_ms == {}

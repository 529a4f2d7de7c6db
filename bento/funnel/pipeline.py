"""One recommendation request through the funnel, with the fallback stack around it.

I/O comes in as collaborators (bundle, online features, a scoring function), so the same code runs
inside the BentoML service and in tests against a real tiny world. Which level answers is decided
by ``bento.funnel.fallback.ranking_level`` from what each stage managed; with ``budgeted`` (the
service) the online reads and the full ranker are cut off at their budgets.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np

from bento.bundle import ServingBundle
from bento.caching import TTLCache
from bento.controls.store import NO_CONTROLS, UserControls
from bento.features import OnlineFeatures
from bento.funnel.budget import NO_DEADLINE, Budgets, Deadline
from bento.funnel.candidate_set import Candidates
from bento.funnel.cold_start import source_counts
from bento.funnel.fallback import (
    L0_FULL_RANKING,
    Health,
    degraded_kind,
)
from bento.funnel.feature_reads import GuardedReads
from bento.funnel.last_good import LastGoodPages
from bento.funnel.lower_levels import LowerLevels
from bento.funnel.ranking import RankingStages, ScoreFn
from bento.funnel.reasons import anchor_page
from bento.funnel.related import related_result
from bento.funnel.rerank import diversify_page, history_taste
from bento.funnel.result import FunnelResult, result_key
from bento.funnel.retrieval import RetrievalContext, SourceCalls, retrieve, session_query
from bento.funnel.user_controls import page_allowed, without_blocked_categories
from bento.observability.stages import Laps, StageSink
from bento.privacy.pseudonym import logged_user
from contracts.api import (
    RecommendRequest,
    RecommendResponse,
    RelatedRequest,
    ResponseMetadata,
)
from contracts.funnel_config import FunnelConfig
from contracts.slis import (
    FUNNEL_ERROR,
    NO_CANDIDATES,
    PERSONALISATION_OFF,
    STAGE_RERANK,
    STAGE_RETRIEVAL,
    STAGE_USER_FEATURES,
)
from training.candidates.cross_scores import recent_items

log = logging.getLogger(__name__)
JUST_ENGAGED_USERS, JUST_ENGAGED_TTL_S = 100_000, 60.0  # far longer than the updater's lag
# After a user's event, their pages are not cached this long: the session push lands within it
# (the in-process updater polls every 20 ms), and a worker that did not take the event never hears
# when it does.
SESSION_SETTLE_S = 5.0


class Funnel:
    def __init__(
        self,
        bundle: ServingBundle,
        features: OnlineFeatures,
        score: ScoreFn,
        config: FunnelConfig,
        results: TTLCache[FunnelResult] | None = None,
        clock: Callable[[], datetime] | None = None,
        on_stage: StageSink | None = None,
        budgeted: bool = False,
        on_breaker: Callable[[str], None] | None = None,
        controls: Callable[[str], UserControls] | None = None,
    ):
        self.bundle, self.features, self.config = bundle, features, config
        self.results = results
        self.on_stage = on_stage  # (stage, surface, seconds) per funnel stage: the latency SLI
        # "now" for item ages and the hour: wall time, or the data's end in an offline replay
        self.clock = clock or (lambda: datetime.now(UTC))
        # Items a user engaged with whose session push may not have landed yet (the updater is
        # asynchronous): hidden from their next pages so a click never shows its item again.
        self.just_engaged: TTLCache[tuple[str, ...]] = TTLCache(JUST_ENGAGED_USERS, JUST_ENGAGED_TTL_S)
        self.unsettled: TTLCache[bool] = TTLCache(JUST_ENGAGED_USERS, SESSION_SETTLE_S)
        # Serving: reads, sources and scoring cut off at their budgets and the page's deadline.
        self.budgets = Budgets(budgeted)
        self.reads = GuardedReads(features, self.budgets, config.degradation, on_breaker)
        self.lower = LowerLevels(bundle, LastGoodPages(config.degradation.last_good_pages))  # levels 2-4
        # Each user's blocks and opt-out (bento/controls), read per request: any worker's write
        # holds from the next request on.
        self.controls = controls or (lambda _: NO_CONTROLS)
        self.ranking = RankingStages(bundle, self.reads, score, config, self.budgets, self.clock)

    @property
    def last_good(self) -> LastGoodPages:
        """Level 2: each user's last full-ranking page per surface."""
        return self.lower.last_good

    @last_good.setter
    def last_good(self, pages: LastGoodPages) -> None:
        self.lower.last_good = pages

    def recommend(self, request: RecommendRequest, reduced: bool = False) -> RecommendResponse:
        """One page; ``reduced`` (the service under load) retrieves only the degradation's
        ``reduced_candidates``, so the ranker scores fewer before any request is refused."""
        started = time.perf_counter()
        controls = self.controls(request.user_id)
        if controls.opted_out:
            return self._response(self._not_personalised(request, controls), started)
        key = result_key(request)
        cached = self.results.get(key) if self.results is not None else None
        if (
            cached is not None
            and self.bundle.unavailable().isdisjoint(i.item_id for i in cached.page)
            and page_allowed(cached.page, controls)
        ):
            return self._response(cached, started, cache_hit=True)
        laps = Laps(request.surface, self.on_stage)
        due = self.config.degradation.deadline_ms
        deadline = Deadline.after(due) if self.budgets.enforced else NO_DEADLINE
        try:
            result = self._personalised(request, laps, deadline, controls, reduced)
        except Exception as error:  # any stage failing: the fallback stack answers, never empty
            log.exception(
                "funnel failed for user %s; answering from fallback lists", logged_user(request.user_id)
            )
            text = f"{type(error).__name__}: {error}"
            result = self._lower(request, None, None, controls, FUNNEL_ERROR, text)
        result.stage_ms = laps.ms
        if result.level == L0_FULL_RANKING:
            self.last_good.keep(request.user_id, request.surface, result.page)
            # Not while the user's session is in flux: their new events' push may not have landed
            # yet, and another worker would not hear when it does.
            if self.results is not None and self.unsettled.get(request.user_id) is None:
                self.results.put(key, result)
        return self._response(result, started)

    def note_events(self, user_id: str, engaged: Sequence[str]) -> None:
        """The user's new events are durable: drop their cached pages, remember what they engaged with."""
        self.forget_user(user_id)
        self.unsettled.put(user_id, True)
        if engaged:
            known = self.just_engaged.get(user_id) or ()
            self.just_engaged.put(user_id, tuple(dict.fromkeys((*known, *engaged))))

    def forget_user(self, user_id: str) -> int:
        """Drop the user's cached responses (their own new events must show on the next request);
        returns how many were dropped."""
        if self.results is None:
            return 0
        return self.results.pop_where(lambda key: key[0] == user_id)  # type: ignore[index]

    def erase_user(self, user_id: str) -> int:
        """Everything the funnel holds about a forgotten user: cached responses, last good pages
        and recent engagements; returns how many cached pages were dropped."""
        self.just_engaged.pop(user_id)
        return self.last_good.forget_user(user_id) + self.forget_user(user_id)

    def related(self, request: RelatedRequest) -> RecommendResponse:
        started = time.perf_counter()
        controls = self.controls(request.user_id) if request.user_id else NO_CONTROLS
        result = related_result(self.bundle, self.config, self.lower, request, controls)
        return self._response(result, started)

    def _personalised(
        self,
        request: RecommendRequest,
        laps: Laps,
        deadline: Deadline,
        controls: UserControls,
        reduced: bool = False,
    ) -> FunnelResult:
        surface, degradation = self.config.surface(request.surface), self.config.degradation
        cap = surface.max_candidates
        if reduced:
            cap = min(cap, degradation.reduced_candidates)
        cached_only = self.reads.cached_only  # the breaker's state as the request starts
        user, user_fault = self.reads.user(request.user_id, deadline)  # store down: defaults
        laps.lap(STAGE_USER_FEATURES)
        session_items = list(user.get("session_item_ids") or [])
        excluded = self._blocked(request.user_id, controls) | set(session_items)
        query = self._query(request.user_id, session_items)
        counts = self._source_counts(request.user_id, user, surface.candidates.model_dump())
        windows = self.config.history
        past = self.bundle.recent.get(request.user_id, [])
        history = recent_items(session_items, past, windows.history_items)
        context = RetrievalContext(
            surface=request.surface,
            query=query,
            session_items=list(reversed(session_items)),
            recent_items=history[: windows.seed_items],
            history=history,
            categories=list(user.get("user_top_categories") or []),
            segment=str(user.get("segment") or ""),
        )
        calls = SourceCalls(self.budgets, lambda name: deadline.cap(degradation.source_budget_ms(name)))
        cands, gathered = retrieve(self.bundle, context, counts, excluded, cap, windows, calls)
        notes = [f"sources unavailable: {', '.join(gathered.failed)}"] if gathered.failed else []
        notes += [f"sources past their budget: {', '.join(gathered.late)}"] if gathered.late else []
        notes += ["feature store circuit open: cached features only"] if cached_only else []
        health = Health(
            sources_failed=bool(gathered.failed),
            sources_late=bool(gathered.late),
            cached_features=cached_only,
        )
        if cands.empty:
            text = "; ".join(["no candidates", *notes])
            return self._lower(request, user.get("segment"), excluded, controls, NO_CANDIDATES, text)
        self._with_catalogue(cands)
        cands = without_blocked_categories(cands, controls)
        if cands.empty:
            text = "; ".join(["no candidates outside the categories the user blocked", *notes])
            return self._lower(request, user.get("segment"), excluded, controls, NO_CANDIDATES, text)
        laps.lap(STAGE_RETRIEVAL)
        retrieved, source_kind = len(cands), degraded_kind(health)
        taste = self._taste(history)
        seeds = [*context.session_items[:1], *context.recent_items]  # what reasons are anchored on
        if not self.bundle.ranker_enabled:  # the gate found the ranker worse than retrieval order
            cands["score"] = cands["fused_score"]
            page = anchor_page(
                self.bundle, diversify_page(cands, surface.rules, request.page_size, taste), seeds
            )
            laps.lap(STAGE_RERANK)
            return FunnelResult(page, retrieved, 0, L0_FULL_RANKING, "; ".join(notes) or None, source_kind)
        ranked = self.ranking.rank(cands, user, user_fault, request, surface, laps, health, deadline)
        notes = ranked.notes + notes
        if ranked.cands is None:
            segment = user.get("segment")
            return self._lower(request, segment, excluded, controls, ranked.kind, "; ".join(notes))
        page = diversify_page(ranked.cands, surface.rules, request.page_size, taste)
        page = anchor_page(self.bundle, page, seeds)
        laps.lap(STAGE_RERANK)
        scored = len(ranked.cands)
        return FunnelResult(page, retrieved, scored, ranked.level, "; ".join(notes) or None, ranked.kind)

    def _taste(self, history: Sequence[str]) -> dict[str, float]:
        """The user's category shares over ``history`` (the calibrated diversity cap's input)."""
        categories, _ = self.bundle.shown_attributes(list(history))
        return history_taste(categories[categories != "unknown"])

    def _blocked(self, user_id: str, controls: UserControls) -> set[str]:
        """What this user may not be shown now: engaged (durably or just now), blocked, or unavailable."""
        return (
            set(self.just_engaged.get(user_id) or ())
            | self.bundle.history.get(user_id, set())
            | self.bundle.unavailable()
            | controls.items
        )

    def _lower(
        self,
        request: RecommendRequest,
        segment: str | None,
        excluded: set[str] | None,
        controls: UserControls,
        kind: str,
        reason: str,
    ) -> FunnelResult:
        blocked = self._blocked(request.user_id, controls) if excluded is None else excluded
        return self.lower.answer(request, segment, blocked, controls, kind, reason)

    def _not_personalised(self, request: RecommendRequest, controls: UserControls) -> FunnelResult:
        """Personalisation off: the global list, nothing of the user's data but their own blocks."""
        blocked = self.bundle.unavailable() | controls.items
        reason = "personalisation off"
        return self.lower.lists(None, request.page_size, reason, blocked, controls, PERSONALISATION_OFF)

    def _source_counts(self, user_id: str, user: dict, configured: dict[str, int]) -> dict[str, int]:
        interactions = len(self.bundle.history.get(user_id, ())) + int(user.get("session_events") or 0)
        known = user_id in self.bundle.user_positions
        return source_counts(configured, interactions, known, self.config.cold_start.ramp_interactions)

    def _query(self, user_id: str, session_items: list[str]) -> np.ndarray | None:
        vectors, known = self.bundle.item_vectors(session_items)
        pull = self.config.history.session_query_weight
        return session_query(self.bundle.user_vector(user_id), vectors[known], pull)

    def _with_catalogue(self, cands: Candidates) -> None:
        """Each candidate's ``category`` ("unknown" where the catalogue has none) and ``sponsored``."""
        cands["category"], cands["sponsored"] = self.bundle.shown_attributes(cands.ids())

    def _response(self, result: FunnelResult, started: float, cache_hit: bool = False) -> RecommendResponse:
        return RecommendResponse(
            items=result.page,
            metadata=ResponseMetadata(
                request_id=f"req_{uuid.uuid4().hex[:16]}",
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
                model_version=self.bundle.model_version,
                candidates_retrieved=result.retrieved,
                candidates_scored=result.scored,
                fallback_level=result.level,
                fallback_reason=result.reason,
                fallback_kind=result.kind,
                cache_hit=cache_hit,
                batch_features_age_s=round((self.clock() - self.bundle.features_as_of).total_seconds(), 1),
                stage_ms={} if cache_hit else result.stage_ms,
            ),
        )

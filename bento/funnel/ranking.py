"""The ranking stages of one request, and which of L0 / L1 they reach (design part 9, failure 3).

L0: the light stage keeps the best ``full_rank`` candidates and the full ranker scores them within
its budget. L1, when the online store failed or ran past its budget, or the full ranker failed,
returned garbage or ran past its budget: the light ranker orders the best ``reduced_candidates``
(design: "score 200 instead of 1,000"). Anything less is for the funnel's levels 2-4.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from bento.bundle import ServingBundle
from bento.features import FeatureFault
from bento.funnel.budget import NO_DEADLINE, Budgets, Deadline
from bento.funnel.candidate_set import Candidates
from bento.funnel.fallback import L0_FULL_RANKING, L1_LIGHT_RANKER, Health, ranking_level
from bento.funnel.feature_reads import GuardedReads
from bento.funnel.request_inputs import request_inputs
from bento.observability.stages import Laps
from contracts.api import RecommendRequest
from contracts.funnel_config import FunnelConfig, SurfaceConfig
from contracts.slis import RANKER_DOWN, RANKER_INVALID, RANKER_SLOW, STAGE_CANDIDATE_FEATURES, STAGE_SCORING
from training.light_ranker import keep_top

log = logging.getLogger(__name__)
HEALTHY = Health()
ScoreFn = Callable[[np.ndarray, str], np.ndarray]


class InvalidScoresError(ValueError):
    """The full ranker answered, but with scores the funnel must not sort by."""


def ranker_kind(error: Exception) -> str:
    """The reason kind of a full-ranker failure."""
    if isinstance(error, TimeoutError):  # bento.funnel.budget.PastBudget
        return RANKER_SLOW
    return RANKER_INVALID if isinstance(error, InvalidScoresError) else RANKER_DOWN


@dataclass
class Ranked:
    """The ranking stages' answer: scored candidates at ``level``, or none (``cands`` None: the
    funnel answers from level 2 down) with the reason kind and notes."""

    cands: Candidates | None
    level: int
    kind: str
    notes: list[str] = field(default_factory=list)


@dataclass
class RankingStages:
    bundle: ServingBundle
    reads: GuardedReads
    score: ScoreFn
    config: FunnelConfig
    budgets: Budgets
    clock: Callable[[], datetime]

    def rank(
        self,
        cands: Candidates,
        user: dict,
        user_fault: FeatureFault | None,
        request: RecommendRequest,
        surface: SurfaceConfig,
        laps: Laps,
        retrieval: Health = HEALTHY,
        deadline: Deadline = NO_DEADLINE,
    ) -> Ranked:
        """L0 or L1 over ``cands``; ``retrieval`` says which sources failed or ran late."""
        notes: list[str] = []
        light_scores, ranker_fault, feature_fault = None, None, user_fault
        if user_fault is None:
            inputs, feature_fault = self.inputs(cands, user, request, deadline)
            laps.lap(STAGE_CANDIDATE_FEATURES)
        if feature_fault is None:
            light_scores = self._light_scores(inputs, request.surface)
            kept = np.arange(len(cands))
            if light_scores is not None and 0 < surface.full_rank < len(cands):
                kept = keep_top(light_scores, surface.full_rank)
            try:
                scores = self.full_scores(inputs[kept], request.surface, deadline)
                laps.lap(STAGE_SCORING)
                ranked = cands.take(kept)
                ranked["score"] = scores
                return Ranked(ranked, L0_FULL_RANKING, ranking_level(retrieval)[1])
            except Exception as error:
                log.warning(
                    "full ranker failed (%s: %s); the light ranker answers", type(error).__name__, error
                )
                ranker_fault = ranker_kind(error)
                notes.append(f"ranker: {type(error).__name__}: {error}")
        else:
            notes.append(f"feature store unavailable ({feature_fault})")
        health = replace(
            retrieval,
            features=feature_fault.kind if feature_fault is not None else None,
            ranker=ranker_fault,
            light_ranker=self.bundle.light_ranker is not None,
        )
        level, kind = ranking_level(health)
        if level == L1_LIGHT_RANKER:
            try:
                return Ranked(self._light_order(cands, user, request, light_scores), level, kind, notes)
            except Exception as error:
                log.exception("light ranker failed too; answering from the last good page or the lists")
                notes.append(f"light ranker: {type(error).__name__}: {error}")
        return Ranked(None, level, kind, notes)

    def full_scores(self, inputs: np.ndarray, surface: str, deadline: Deadline = NO_DEADLINE) -> np.ndarray:
        """The full ranker's scores within its budget, or an error: never garbage to sort by."""
        budget = deadline.cap(self.config.degradation.scoring_budget_ms)
        scores = np.asarray(self.budgets.call("full ranker", budget, self.score, inputs, surface), np.float32)
        if (
            scores.shape != (len(inputs),)
            or not np.isfinite(scores).all()
            or (scores < 0).any()
            or (scores > 1).any()
        ):
            raise InvalidScoresError(f"ranker returned {scores.shape} scores outside [0, 1] or non-finite")
        return scores

    def inputs(
        self,
        cands: Candidates,
        user: dict,
        request: RecommendRequest,
        deadline: Deadline = NO_DEADLINE,
        cached_only: bool = False,
    ) -> tuple[np.ndarray, FeatureFault | None]:
        items, problem = self.reads.items(cands.ids(), deadline, cached_only=cached_only)
        now = self.clock()
        hour = request.context.hour_of_day if request.context.hour_of_day is not None else now.hour
        device = request.context.device or user.get("device")
        return request_inputs(items, user, cands, now.timestamp(), hour, device), problem

    def _light_scores(self, inputs: np.ndarray, surface: str) -> np.ndarray | None:
        """The light stage's scores; None without a light ranker, or when it fails (the full
        ranker then scores every candidate)."""
        light = self.bundle.light_ranker
        if light is None:
            return None
        try:
            return light.score(inputs, surface)
        except Exception:
            log.exception("light stage failed; the full ranker scores every candidate")
            return None

    def _light_order(
        self, cands: Candidates, user: dict, request: RecommendRequest, light_scores: np.ndarray | None
    ) -> Candidates:
        """Level 1: the light ranker's order over the best ``reduced_candidates``. With features
        read it has scored every candidate already; else the reduced set (by fused retrieval score)
        is scored on cached and default features, with no further online read."""
        reduced = self.config.degradation.reduced_candidates
        if light_scores is not None:
            kept = keep_top(light_scores, reduced)
            cands = cands.take(kept)
            cands["score"] = light_scores[kept]
            return cands
        order = np.argsort(-cands["fused_score"], kind="stable")[:reduced]
        cands = cands.take(order)
        inputs, _ = self.inputs(cands, user, request, cached_only=True)
        light = self.bundle.light_ranker
        if light is None:
            raise RuntimeError("the bundle has no light ranker")
        cands["score"] = light.score(inputs, request.surface)
        return cands

"""Cold start, staged: how many candidates each source gives a user with few interactions (pure).

A user the model has never seen starts on popular and segment candidates (and content neighbours
of whatever they touch); each interaction moves a share of the candidate budget to the personal
sources (collaborative, session), linearly over the first ``ramp`` interactions, so the page
drifts towards personal recommendations without a visible jump. The ranker orders the union as
usual. A user the model knows (has a trained embedding) is warm from the first request.
"""

from __future__ import annotations

from dataclasses import dataclass

PERSONAL_SOURCES = ("collaborative", "session")
NON_PERSONAL_SOURCES = ("popular", "segment")


@dataclass(frozen=True)
class ColdStartMix:
    personal_share: float  # 0 for a brand-new user, 1 once warm
    counts: dict[str, int]  # candidates per source after the shift


def personal_share(interactions: int, known_to_model: bool, ramp: int) -> float:
    """0..1: how far along the cold-start ramp a user is."""
    if known_to_model or ramp <= 0:
        return 1.0
    return min(1.0, max(0, interactions) / ramp)


def cold_start_counts(counts: dict[str, int], share: float) -> ColdStartMix:
    """Scale the personal sources by ``share`` and give the freed budget to the non-personal ones.

    The total stays the same: ``segment`` and ``popular`` split what the personal sources give up.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be in [0, 1], got {share}")
    out = dict(counts)
    freed = 0
    for name in PERSONAL_SOURCES:
        kept = round(counts.get(name, 0) * share)
        freed += counts.get(name, 0) - kept
        out[name] = kept
    for i, name in enumerate(NON_PERSONAL_SOURCES):
        extra = freed // len(NON_PERSONAL_SOURCES) + (1 if i < freed % len(NON_PERSONAL_SOURCES) else 0)
        out[name] = counts.get(name, 0) + extra
    return ColdStartMix(share, out)


def source_counts(
    configured: dict[str, int], interactions: int, known_to_model: bool, ramp: int
) -> dict[str, int]:
    """A request's candidates per source: the surface's counts, shifted for a cold user."""
    return cold_start_counts(configured, personal_share(interactions, known_to_model, ramp)).counts

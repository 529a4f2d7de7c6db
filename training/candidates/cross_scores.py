"""Each item-to-item source's score for a list of candidates: cross features for the ranker.

The ranker should know not only that an item was retrieved but how strongly each source vouches
for it. Training (the `ranking/training_set` asset) and serving (the funnel) both call
:func:`source_scores` with the same seeds (:func:`recent_items`: the session newest first, then
history), so the features mean the same thing offline and online.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from training.candidates.co_interaction import CoInteractionNeighbours
from training.candidates.content import ContentIndex

CO_INTERACTION_SCORE: Final = "co_interaction_score"
CONTENT_SIMILARITY: Final = "content_similarity"
SEED_ITEMS: Final = 10  # recent items that seed the item-to-item sources


def recent_items(session_items: Sequence[str], history: set[str], limit: int = SEED_ITEMS) -> list[str]:
    """Session items newest first, then history (unordered: the bundle keeps a set) up to ``limit``."""
    ordered = list(dict.fromkeys(reversed(list(session_items))))
    ordered += sorted(history - set(ordered))[: max(limit - len(ordered), 0)]
    return ordered[:limit]


def source_scores(
    co_interaction: CoInteractionNeighbours | None,
    content: ContentIndex | None,
    seeds: Sequence[str],
    candidates: Sequence[str],
) -> dict[str, np.ndarray]:
    """``{co_interaction_score, content_similarity}`` per candidate; 0 where a source is absent or
    does not reach the candidate from these seeds."""
    out: dict[str, np.ndarray] = {}
    for name, source in ((CO_INTERACTION_SCORE, co_interaction), (CONTENT_SIMILARITY, content)):
        reached = source.scores(seeds) if source is not None and len(seeds) else {}
        out[name] = np.fromiter((reached.get(c, 0.0) for c in candidates), np.float64, len(candidates))
    return out


def row_source_scores(
    co_interaction: CoInteractionNeighbours | None,
    content: ContentIndex | None,
    user_ids: Sequence[str],
    session_items: Sequence[Sequence[str] | None],
    item_ids: Sequence[str],
    history: Mapping[str, set[str]],
) -> dict[str, np.ndarray]:
    """:func:`source_scores` for labelled training rows, each with its own seeds (the row's session
    before it, then the user's history); seeds repeat a lot, so each distinct set is looked up once."""
    out = {name: np.zeros(len(item_ids)) for name in (CO_INTERACTION_SCORE, CONTENT_SIMILARITY)}
    reached: dict[tuple[str, ...], dict[str, dict[str, float]]] = {}
    sources = ((CO_INTERACTION_SCORE, co_interaction), (CONTENT_SIMILARITY, content))
    for row, (user, session, item) in enumerate(zip(user_ids, session_items, item_ids, strict=True)):
        seeds = tuple(recent_items(list(session if session is not None else []), history.get(user, set())))
        if seeds not in reached:
            reached[seeds] = {n: s.scores(seeds) if s is not None and seeds else {} for n, s in sources}
        for name, scores in reached[seeds].items():
            out[name][row] = scores.get(item, 0.0)
    return out

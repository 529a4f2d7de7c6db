"""User x item cross features over the candidates' categories, per row or vectorised.

Training rows each carry their own user's lists (top categories, session categories), so each row
is crossed on its own. A served request has one user: their lists are request constants and each
cross feature is a handful of array comparisons over the candidates instead of a Python loop. Both
forms give the same numbers (``tests/feature_repo/test_session_and_inputs.py`` checks them
against each other).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

LISTS = list | tuple | np.ndarray


def _share(categories: object, shares: object, category: str) -> float:
    if not isinstance(categories, LISTS) or len(categories) == 0:
        return 0.0
    for cat, share in zip(categories, shares if shares is not None else [], strict=False):
        if cat == category:
            return float(share)
    return 0.0


def _session_share(categories: object, category: str) -> float:
    if not isinstance(categories, LISTS) or len(categories) == 0:
        return 0.0
    return float(sum(1 for c in categories if c == category)) / len(categories)


def category_affinity(
    top: list[Any] | None, shares: list[Any] | None, user_top: object, user_shares: object, items: np.ndarray
) -> np.ndarray:
    """The share of each candidate's category among the user's top categories (0 if absent).

    ``top``/``shares`` are per-row lists, or None with the request's ``user_top``/``user_shares``."""
    if top is not None:
        rows = shares if shares is not None else [None] * len(items)
        return np.array([_share(t, s, c) for t, s, c in zip(top, rows, items.tolist(), strict=True)])
    out = np.zeros(len(items))
    if not isinstance(user_top, LISTS) or len(user_top) == 0:
        return out
    assigned = np.zeros(len(items), bool)
    for cat, share in zip(user_top, user_shares if user_shares is not None else [], strict=False):
        if not isinstance(cat, str):  # never equal to an item's category (always a string)
            continue
        hit = (items == cat) & ~assigned  # the first listed occurrence wins, as in the loop
        if hit.any():
            out[hit] = float(share)
            assigned |= hit
    return out


def last_category_match(last: np.ndarray, items: np.ndarray) -> np.ndarray:
    """1 where the candidate is of the session's last category (never for an unknown category)."""
    return ((items == last) & (items != "")).astype(np.float64)


def session_category_share(sessions: list[Any] | None, user_session: object, items: np.ndarray) -> np.ndarray:
    """The share of the session's events in each candidate's category: per row (``sessions``) or
    the request's ``user_session`` for every row."""
    if sessions is not None:
        return np.array([_session_share(s, c) for s, c in zip(sessions, items.tolist(), strict=True)])
    out = np.zeros(len(items))
    if not isinstance(user_session, LISTS) or len(user_session) == 0:
        return out
    for cat, count in Counter(c for c in user_session if isinstance(c, str)).items():
        out[items == cat] = float(count) / len(user_session)
    return out

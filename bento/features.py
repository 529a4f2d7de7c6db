"""Online feature reads through Feast: user, session and item features for one request.

Item features of recently requested items are cached in-process (5-minute TTL) because every
request reads ~1,000 of them; session features are never cached, so a click shows up at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from bento.caching import TTLCache
from contracts.features import (
    ITEM_STATS_FEATURES,
    ITEM_STATS_VIEW,
    SESSION_DEFAULTS,
    SESSION_FEATURES,
    SESSION_PUSH_SOURCE,
    USER_ACTIVITY_FEATURES,
    USER_ACTIVITY_VIEW,
    USER_DEFAULTS,
    USER_PROFILE_FEATURES,
    USER_PROFILE_VIEW,
    USER_SESSION_VIEW,
    USER_STATS_FEATURES,
    USER_STATS_VIEW,
)
from contracts.funnel_config import CachesConfig
from contracts.slis import FEATURE_STORE_DOWN, FEATURE_STORE_SLOW

USER_REFS = (
    [f"{USER_STATS_VIEW}:{f}" for f in USER_STATS_FEATURES]
    + [f"{USER_ACTIVITY_VIEW}:{f}" for f in USER_ACTIVITY_FEATURES]
    + [f"{USER_PROFILE_VIEW}:{f}" for f in USER_PROFILE_FEATURES]
    + [f"{USER_SESSION_VIEW}:{f}" for f in SESSION_FEATURES]
)
ITEM_REFS = [f"{ITEM_STATS_VIEW}:{f}" for f in ITEM_STATS_FEATURES]


Runner = Callable[..., Any]  # run(fn, *args): the call, under a time budget or not


def inline(fn: Callable[..., Any], *args: object) -> Any:
    return fn(*args)


@dataclass(frozen=True)
class FeatureFault:
    """Why a read served defaults: a bounded kind (``contracts.slis``) and the error's text."""

    kind: str
    detail: str

    @classmethod
    def of(cls, what: str, error: Exception) -> FeatureFault:
        kind = FEATURE_STORE_SLOW if isinstance(error, TimeoutError) else FEATURE_STORE_DOWN
        return cls(kind, f"{what}: {type(error).__name__}: {error}")

    def __str__(self) -> str:
        return self.detail


def _with_defaults(row: dict[str, Any], defaults: dict[str, object]) -> dict[str, Any]:
    return {k: (defaults[k] if k in defaults and row.get(k) is None else v) for k, v in row.items()}


class OnlineFeatures:
    def __init__(
        self,
        store: FeatureStore,
        item_ttl_s: float = CachesConfig().item_features.ttl_s,
        item_capacity: int = CachesConfig().item_features.capacity,
        on_item_lookup: Callable[[bool], None] | None = None,
        on_defaults: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.on_defaults = on_defaults  # "user" / "item": the store failed, defaults serve (an SLI)
        self.item_cache: TTLCache[dict[str, Any]] = TTLCache(
            item_capacity, item_ttl_s, on_lookup=on_item_lookup
        )

    def user(self, user_id: str) -> dict[str, Any]:
        """Batch, profile and session features; defaults only where the user has no value yet."""
        raw = self.store.get_online_features(features=USER_REFS, entity_rows=[{"user_id": user_id}]).to_dict()
        row = {k: v[0] for k, v in raw.items() if k != "user_id"}
        return _with_defaults(row, {**USER_DEFAULTS, **SESSION_DEFAULTS})

    def user_or_defaults(
        self, user_id: str, run: Runner = inline
    ) -> tuple[dict[str, Any], FeatureFault | None]:
        """The user's features, or the population defaults and why when the store is down or past
        its budget (``run`` applies the budget: ``bento.funnel.budget.Budgets.runner``)."""
        try:
            return run(self.user, user_id), None
        except Exception as error:
            self._defaulted("user")
            return {**USER_DEFAULTS, **SESSION_DEFAULTS}, FeatureFault.of("user features", error)

    def items_or_cached(
        self, item_ids: Sequence[str], run: Runner = inline, cached_only: bool = False
    ) -> tuple[pd.DataFrame, FeatureFault | None]:
        """Item features; with the store down or past its budget (or ``cached_only``, when this
        request already found it so), the cached ones and empty rows (neutral inputs)."""
        try:
            if not cached_only:
                return run(self.items, item_ids), None
        except Exception as error:
            fault: FeatureFault | None = FeatureFault.of("item features", error)
        else:
            fault = None
        self._defaulted("item")
        rows = [self.item_cache.get(item) or {} for item in item_ids]
        return pd.DataFrame(rows, index=pd.Index(list(item_ids), name="item_id")), fault

    def _defaulted(self, entity: str) -> None:
        if self.on_defaults is not None:
            self.on_defaults(entity)

    def session(self, user_id: str) -> dict[str, Any]:
        refs = [f"{USER_SESSION_VIEW}:{f}" for f in SESSION_FEATURES]
        raw = self.store.get_online_features(features=refs, entity_rows=[{"user_id": user_id}]).to_dict()
        return _with_defaults({k: v[0] for k, v in raw.items() if k != "user_id"}, SESSION_DEFAULTS)

    def items(self, item_ids: Sequence[str]) -> pd.DataFrame:
        """Item features in the order of ``item_ids``: one batched read for the cache misses."""
        rows = {item: self.item_cache.get(item) for item in dict.fromkeys(item_ids)}
        missing = [item for item, row in rows.items() if row is None]
        if missing:
            raw = self.store.get_online_features(
                features=ITEM_REFS, entity_rows=[{"item_id": i} for i in missing]
            ).to_dict()
            names = [k for k in raw if k != "item_id"]
            for pos, item in enumerate(missing):
                rows[item] = {n: raw[n][pos] for n in names}
                self.item_cache.put(item, rows[item])
        return pd.DataFrame([rows[i] for i in item_ids], index=pd.Index(list(item_ids), name="item_id"))

    def invalidate_items(self, item_ids: Sequence[str]) -> None:
        for item in item_ids:
            self.item_cache.pop(item)

    def own_connection(self) -> OnlineFeatures:
        """The same store through a separate FeatureStore (its own online-store connection), for a
        writer thread: Feast's SQLite store shares one connection per instance, and interleaving
        a thread's writes with request threads' reads on it fails ("disk I/O error")."""
        store = FeatureStore(repo_path=str(self.store.repo_path), config=self.store.config)
        return OnlineFeatures(store, item_ttl_s=0, item_capacity=0)

    def push_session(self, user_id: str, state: dict[str, Any], at: datetime | None = None) -> None:
        row = {"user_id": user_id, "event_timestamp": at or datetime.now(UTC), **SESSION_DEFAULTS, **state}
        self.store.push(SESSION_PUSH_SOURCE, pd.DataFrame([row]), to=PushMode.ONLINE)

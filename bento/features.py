"""Online feature reads through Feast: user, session and item features for one request.

Every request ranks hundreds of items, so item features are held in process as columns
(``bento.item_table``): loaded from Feast in batched reads at start-up (``load_items``), reloaded
when a materialization lands (``bento.item_refresh``) and refreshed row by row when the catalogue
endpoints write an item; an item not in the table yet is read through Feast on its first request.
A request's one online read is the user's (batch and session features together); session
features are never held, so a click shows up at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from bento.item_table import Columns, ItemFeatureTable, as_column
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
ITEM_READ_BATCH = 1_000  # entity rows per online read when the whole table is loaded


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
        on_item_lookup: Callable[[bool, int], None] | None = None,
        on_defaults: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.on_defaults = on_defaults  # "user" / "item": the store failed, defaults serve (an SLI)
        self.on_item_lookup = on_item_lookup  # (found in the table, how many): the cache SLI
        # ``item_capacity`` 0 or ``item_ttl_s`` 0 keeps no table (every request reads through Feast);
        # ``item_ttl_s`` is how often a new materialization is looked for (``bento.item_refresh``).
        self.item_capacity, self.item_refresh_s = item_capacity, item_ttl_s
        self.item_table = ItemFeatureTable()

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
            self.defaulted("user")
            return {**USER_DEFAULTS, **SESSION_DEFAULTS}, FeatureFault.of("user features", error)

    def items_or_cached(
        self, item_ids: Sequence[str], run: Runner = inline, cached_only: bool = False
    ) -> tuple[Columns, FeatureFault | None]:
        """The items' feature columns in ``item_ids`` order, from the table; items not in it are
        read through Feast (``run`` applies the budget) unless ``cached_only``. With the store down
        or past its budget, or ``cached_only``, those rows hold missing values (neutral inputs)."""
        columns, unknown = self.item_table.gather(item_ids)
        misses = int(unknown.sum())
        self._looked_up(len(item_ids) - misses, misses)
        if not misses:
            return columns, None
        fault = None
        if not cached_only:
            missing = [item for item, gone in zip(item_ids, unknown.tolist(), strict=True) if gone]
            try:
                read = run(self._read_columns, missing)
            except Exception as error:
                fault = FeatureFault.of("item features", error)
            else:
                self._keep(missing, read)
                for name, column in read.items():
                    if columns[name].dtype != column.dtype:  # longer strings than the table's
                        columns[name] = columns[name].astype(np.result_type(columns[name], column))
                    columns[name][unknown] = column
                return columns, None
        self.defaulted("item")
        return columns, fault

    def load_items(
        self, item_ids: Sequence[str], batch: int = ITEM_READ_BATCH, reader: OnlineFeatures | None = None
    ) -> int:
        """Read ``item_ids``' features through Feast in batches and make them the whole table
        (start-up, and after a materialization, through ``reader``'s own connection); returns the
        rows held (at most the configured capacity)."""
        ids = list(dict.fromkeys(item_ids))[: self.item_capacity] if self._holds() else []
        read = (reader or self)._read_columns
        parts = [read(ids[at : at + batch]) for at in range(0, len(ids), batch)]
        columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}
        self.item_table.replace(ids, columns)
        return len(ids)

    def refresh_items(self, item_ids: Sequence[str]) -> None:
        """Re-read items whose online features were just written (a catalogue write)."""
        if self._holds():
            self.item_table.upsert(list(item_ids), self._read_columns(list(item_ids)))

    def _read_columns(self, item_ids: Sequence[str]) -> Columns:
        raw = self.store.get_online_features(
            features=ITEM_REFS, entity_rows=[{"item_id": i} for i in item_ids]
        ).to_dict()
        return {name: as_column(name, raw[name]) for name in ITEM_STATS_FEATURES}

    def _keep(self, item_ids: Sequence[str], columns: Columns) -> None:
        if self._holds() and len(self.item_table) + len(item_ids) <= self.item_capacity:
            self.item_table.upsert(item_ids, columns)

    def _holds(self) -> bool:
        return self.item_capacity > 0 and self.item_refresh_s > 0

    def _looked_up(self, hits: int, misses: int) -> None:
        if self.on_item_lookup is not None:
            self.on_item_lookup(True, hits)
            self.on_item_lookup(False, misses)

    def defaulted(self, entity: str) -> None:
        if self.on_defaults is not None:
            self.on_defaults(entity)

    def session(self, user_id: str) -> dict[str, Any]:
        refs = [f"{USER_SESSION_VIEW}:{f}" for f in SESSION_FEATURES]
        raw = self.store.get_online_features(features=refs, entity_rows=[{"user_id": user_id}]).to_dict()
        return _with_defaults({k: v[0] for k, v in raw.items() if k != "user_id"}, SESSION_DEFAULTS)

    def items(self, item_ids: Sequence[str]) -> pd.DataFrame:
        """What the online store holds for ``item_ids`` now (None where unset), read through Feast:
        for the catalogue writer, which must not see the table's possibly older rows."""
        raw = self.store.get_online_features(
            features=ITEM_REFS, entity_rows=[{"item_id": i} for i in item_ids]
        ).to_dict()
        rows = {n: raw[n] for n in ITEM_STATS_FEATURES}
        return pd.DataFrame(rows, index=pd.Index(list(item_ids), name="item_id"))

    def invalidate_items(self, item_ids: Sequence[str]) -> None:
        """Forget deleted items' rows."""
        self.item_table.drop(item_ids)

    def own_connection(self) -> OnlineFeatures:
        """The same store through a separate FeatureStore (its own online-store connection), for a
        writer thread: Feast's SQLite store shares one connection per instance, and interleaving
        a thread's writes with request threads' reads on it fails ("disk I/O error")."""
        store = FeatureStore(repo_path=str(self.store.repo_path), config=self.store.config)
        return OnlineFeatures(store, item_ttl_s=0, item_capacity=0)

    def push_session(self, user_id: str, state: dict[str, Any], at: datetime | None = None) -> None:
        row = {"user_id": user_id, "event_timestamp": at or datetime.now(UTC), **SESSION_DEFAULTS, **state}
        self.store.push(SESSION_PUSH_SOURCE, pd.DataFrame([row]), to=PushMode.ONLINE)

"""Deleting one entity's rows (a forgotten user, a deleted item) from Feast's online store.

Feast 0.67 has no per-entity delete: ``FeatureStore`` offers none, and the online stores only drop a
whole table (``update``/``teardown``) or, for Redis, every key of an entity *type*
(``delete_entity_values``). So this uses the online store's own storage, addressed exactly as Feast
addresses it: the entity key serialised with Feast's ``serialize_entity_key`` at the repo's
serialization version; for SQLite, the table Feast names with ``compute_table_id`` per feature view;
for Redis, the one hash per entity key (``_redis_key``: all views of an entity live in it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from feast import FeatureStore
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _redis_key, compute_table_id
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value

USER_KEY = "user_id"
ITEM_KEY = "item_id"


def _entity_key(join_key: str, value: str) -> EntityKey:
    return EntityKey(join_keys=[join_key], entity_values=[Value(string_val=value)])


def _views_of(store: FeatureStore, join_key: str) -> list:
    views = list(store.list_feature_views()) + list(store.list_stream_feature_views())
    unique = {view.name: view for view in views if list(view.join_keys) == [join_key]}
    return list(unique.values())


def _sqlite_path(store: FeatureStore) -> Path:
    path = Path(store.config.online_store.path)
    if not path.is_absolute() and store.config.repo_path:
        path = Path(store.config.repo_path) / path
    return path


def _delete_sqlite(store: FeatureStore, join_key: str, value: str) -> int:
    path = _sqlite_path(store)
    if not path.exists():
        return 0
    config = store.config
    key = serialize_entity_key(_entity_key(join_key, value), config.entity_key_serialization_version)
    versioning = config.registry.enable_online_feature_view_versioning
    deleted = 0
    with sqlite3.connect(path, timeout=30) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for view in _views_of(store, join_key):
            table = compute_table_id(config.project, view, versioning)
            if table in tables:
                deleted += conn.execute(f'DELETE FROM "{table}" WHERE entity_key = ?', (key,)).rowcount
    return deleted


def _delete_redis(store: FeatureStore, join_key: str, value: str) -> int:
    config = store.config
    # A fresh store object only to reuse Feast's client construction (standalone, cluster, sentinel).
    client = RedisOnlineStore()._get_client(config.online_store)
    try:
        entity = _entity_key(join_key, value)
        key = _redis_key(config.project, entity, config.entity_key_serialization_version)
        with client.pipeline(transaction=True) as pipe:
            fields, _ = pipe.hlen(key).delete(key).execute()
        return int(fields)
    finally:
        client.close()


def _delete_entity(store: FeatureStore, join_key: str, value: str) -> int:
    kind = str(store.config.online_store.type)
    if kind == "sqlite" or kind.endswith("SqliteOnlineStore"):
        return _delete_sqlite(store, join_key, value)
    if kind == "redis" or kind.endswith("RedisOnlineStore"):
        return _delete_redis(store, join_key, value)
    raise NotImplementedError(f"deleting from a {kind!r} online store is not supported")


def delete_online_user(store: FeatureStore, user_id: str) -> int:
    """Delete every online feature row of ``user_id``; returns how many rows (SQLite) or feature
    fields (Redis) went. A user who has none is not an error."""
    return _delete_entity(store, USER_KEY, user_id)


def delete_online_item(store: FeatureStore, item_id: str) -> int:
    """Delete a deleted item's online feature rows (its statistics and attributes), as
    :func:`delete_online_user` does for a user."""
    return _delete_entity(store, ITEM_KEY, item_id)

"""Event-to-feature freshness: `python -m bench.freshness [--events 200]`.

How long after an event arrives its effect is readable through Feast ``get_online_features`` on the
session view, for the embedded (SQLite) and production (Redis + PostgreSQL registry) profiles. Each
event takes the real path: `bento.ingestion.events.EventIngestor` (fsync'd append to the local event
log, then the acknowledgement), and the streaming updater (`bento.ingestion.session_updater`, a log
consumer on a background thread polling as `config/ingestion.yaml` says: session read, fold, Feast
push); the session view is polled until the new ``session_events`` count shows. Goal: p95 < 1 s.

Everything runs in a temporary home; the Redis profile uses a scratch project (Redis key suffix) and a
scratch PostgreSQL schema, both removed afterwards. Prints and writes ``bench/results/freshness.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).parent / "results" / "freshness.json"
DEFAULT_REDIS = "127.0.0.1:6379,db=0"
DEFAULT_POSTGRES = "postgresql://root@127.0.0.1:5432/test"
PROFILES = ("sqlite", "redis")
POLL_TIMEOUT_S = 5.0


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(samples_ms, dtype=float)
    if arr.size == 0:
        return {"n": 0}
    return {f"p{q}": round(float(np.percentile(arr, q)), 3) for q in (50, 95, 99)} | {
        "mean": round(float(arr.mean()), 3),
        "max": round(float(arr.max()), 3),
        "n": int(arr.size),
    }


def machine_info() -> dict[str, Any]:
    """Where the figures come from (they are only comparable on the same machine)."""
    import feast
    import redis

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "feast": feast.__version__,
        "redis_py": redis.__version__,
    }


def _drop_redis_keys(redis_url: str, project: str) -> int:
    """Delete the scratch project's keys: Feast suffixes every entity key with the project name."""
    import redis
    from feast.infra.online_stores.redis import RedisOnlineStore

    nodes, params = RedisOnlineStore._parse_connection_string(redis_url)
    client = redis.Redis(host=nodes[0]["host"], port=int(nodes[0]["port"]), **params)
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=b"*" + project.encode(), count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            deleted += client.delete(*batch)
            batch.clear()
    if batch:
        deleted += client.delete(*batch)
    return deleted


@contextmanager
def scratch_store(kind: str, home: Path, redis_url: str, postgres_dsn: str) -> Iterator[Any]:
    """A feature store of profile ``kind`` in ``home``; for ``redis`` on a scratch project and schema.

    Only the selection variables change between profiles (configuration only): ``RECO_FEAST_CONFIG``,
    ``RECO_FEAST_PROJECT``, ``RECO_REDIS_URL``, ``RECO_REGISTRY_URL``.
    """
    from contracts.settings import load_settings
    from feature_repo.store import PROD_CONFIG, PROFILE_ENV, PROJECT_ENV, open_store

    for name in (PROFILE_ENV, PROJECT_ENV, "RECO_REDIS_URL", "RECO_REGISTRY_URL"):
        os.environ.pop(name, None)
    settings = load_settings({"RECO_HOME": str(home)})
    if kind == "sqlite":
        yield open_store(settings)
        return

    import psycopg

    scratch = f"reco_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {scratch}")
    base = postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    os.environ.update(
        {
            PROFILE_ENV: PROD_CONFIG,
            PROJECT_ENV: scratch,
            "RECO_REDIS_URL": redis_url,
            "RECO_REGISTRY_URL": f"{base}?options=-csearch_path%3D{scratch}",
        }
    )
    store = None
    try:
        store = open_store(settings)
        yield store
    finally:
        if store is not None:
            store.registry.write_engine.dispose()  # type: ignore[attr-defined]
        _drop_redis_keys(redis_url, scratch)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {scratch} CASCADE")


def _catalogue(n_items: int) -> Any:
    import pandas as pd

    ids = [f"i{n:07d}" for n in range(n_items)]
    return pd.DataFrame(
        {"category": [f"cat{n % 20}" for n in range(n_items)]}, index=pd.Index(ids, name="item_id")
    )


def measure(store: Any, home: Path, events: int, warmup: int, users: int, seed: int) -> dict[str, Any]:
    """Ingest events one by one; time arrival -> ack and arrival -> visible in the session view."""
    from bento.features import OnlineFeatures
    from bento.ingestion.event_log import EventLog
    from bento.ingestion.events import EventIngestor
    from bento.ingestion.session_updater import session_consumer, start_in_background
    from bento.ingestion.settings import load_ingestion_config
    from contracts.api import EventIn
    from feature_repo.store import apply_definitions

    apply_definitions(store, home / "features")
    catalogue = _catalogue(2_000)
    log = EventLog(home / "event_log")
    ingestor = EventIngestor(log, catalogue)
    updater = load_ingestion_config().session_updater
    categories = catalogue["category"].to_dict()
    writer = OnlineFeatures(store).own_connection()  # as the service does: the updater's own store
    consumer = session_consumer(log, writer, categories.__getitem__, updater.batch_size)
    stop = start_in_background(consumer, updater.poll_interval_s)
    refs = ["user_session:session_events"]
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    seen: dict[str, int] = {}
    to_ack, to_visible, ack_to_visible, polls = [], [], [], []
    invisible = 0
    try:
        for n in range(warmup + events):
            user = f"bench-{run}-u{rng.randrange(users)}"
            event = EventIn(
                user_id=user,
                item_id=str(rng.choice(catalogue.index)),
                event_type=rng.choice(["impression", "view", "click", "click", "purchase"]),
            )
            started = time.perf_counter()
            ack = ingestor.ingest(event)
            acked = time.perf_counter()
            assert ack.accepted and not ack.duplicate
            seen[user] = seen.get(user, 0) + 1
            visible, tries = None, 0
            while time.perf_counter() - started < POLL_TIMEOUT_S:
                tries += 1
                got = store.get_online_features(features=refs, entity_rows=[{"user_id": user}]).to_dict()
                if got["session_events"][0] == seen[user]:
                    visible = time.perf_counter()
                    break
            if n < warmup:
                continue
            to_ack.append((acked - started) * 1000)
            polls.append(tries)
            if visible is None:
                invisible += 1
                continue
            to_visible.append((visible - started) * 1000)
            ack_to_visible.append((visible - acked) * 1000)
    finally:
        stop.set()
        log.close()
    return {
        "event_to_visible_ms": percentiles(to_visible),
        "event_to_ack_ms": percentiles(to_ack),
        "ack_to_visible_ms": percentiles(ack_to_visible),
        "reads_until_visible_max": max(polls) if polls else 0,
        "not_visible_within_5s": invisible,
        "goal_p95_under_1s": bool(to_visible and invisible == 0 and np.percentile(to_visible, 95) < 1000),
    }


def profile_stores(args: argparse.Namespace) -> Iterator[tuple[str, Path, Any]]:
    """Each chosen profile's scratch store in its own temporary home, cleaned up after its turn."""
    for kind in args.profiles:
        with (
            tempfile.TemporaryDirectory(prefix=f"reco-bench-{kind}-") as tmp,
            scratch_store(kind, Path(tmp), args.redis_url, args.postgres) as store,
        ):
            yield kind, Path(tmp), store


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every Feast benchmark takes: which profiles, where their services are, the seed."""
    parser.add_argument("--profiles", nargs="+", choices=PROFILES, default=list(PROFILES))
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="Feast Redis connection string")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL DSN for the registry")
    parser.add_argument("--seed", type=int, default=7)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--users", type=int, default=50, help="distinct users the events spread over")
    add_store_arguments(parser)
    args = parser.parse_args(argv)

    result: dict[str, Any] = {
        "what": "event arrival (POST /events path: log fsync, ack; streaming updater: log poll, session "
        "fold, Feast push) -> value visible through get_online_features on user_session",
        "events": args.events,
        "users": args.users,
    }
    for kind, home, store in profile_stores(args):
        result[kind] = measure(store, home, args.events, args.warmup, args.users, args.seed)
        result[kind]["event_log_fs"] = _fs_type(home)
    result["machine"] = machine_info()
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


def _fs_type(path: Path) -> str:
    """The file system under ``path``: on tmpfs an fsync costs nothing, which would flatter the ack."""
    mounts = Path("/proc/mounts")
    best, fs = "", "unknown"
    for line in mounts.read_text().splitlines() if mounts.exists() else []:
        parts = line.split()
        if len(parts) > 2 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fs = parts[1], parts[2]
    return fs


if __name__ == "__main__":
    main()

"""Durably acknowledged events per second: ``python -m bench.ingest``.

Measures the local segment log with one event per ``append`` (one fsync each) and with
``append_many`` batches (one fsync per batch), consumer reads by offset, and the Redis Streams log
with one event per call and with batches (one Lua script call per chunk). Every figure counts only
events whose append call returned, i.e. acknowledged. The Redis figures are "acknowledged by Redis",
durable only as far as its AOF settings go; the run records them (``redis.durability``). Prints the
figures and writes ``bench/results/ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bento.ingestion.event_log import EventLog

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"


def _timestamp(n: int) -> str:
    seconds, micros = divmod(n, 1_000_000)
    clock = f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"2026-11-25T{clock}.{micros:06d}+00:00"


def make_records(count: int, tag: str) -> list[dict[str, Any]]:
    """Records shaped like ``bento.ingestion.events.to_record`` output (every field filled)."""
    return [
        {
            "event_id": f"evt_{tag}_{n:09d}",
            "user_id": f"u{n % 20_000:07d}",
            "item_id": f"i{(n * 7919) % 50_000:07d}",
            "event_type": ("impression", "click", "view", "purchase")[n % 4],
            "timestamp": _timestamp(n),
            "surface": "home_feed",
            "position": n % 20,
            "session_id": f"s{n // 25:08d}",
            "device": "mobile",
            "value": 0.0,
        }
        for n in range(count)
    ]


def timed(append: Callable[[list[dict[str, Any]]], Any], records: list[dict[str, Any]], batch: int) -> dict:
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        append(records[start : start + batch])
    seconds = time.perf_counter() - started
    return {
        "events": len(records),
        "batch": batch,
        "seconds": round(seconds, 3),
        "events_per_second": round(len(records) / seconds),
        "mean_ack_ms": round(1000 * seconds / -(-len(records) // batch), 3),
    }


def fsync_latency_ms(directory: Path, rounds: int = 200) -> float:
    """Median write+fsync of one small record here: the floor under one-event-per-append figures."""
    path = directory / "fsync-probe"
    samples = []
    with open(path, "ab") as handle:
        for _ in range(rounds):
            started = time.perf_counter()
            handle.write(b"x" * 300)
            handle.flush()
            os.fsync(handle.fileno())
            samples.append(time.perf_counter() - started)
    path.unlink()
    return round(1000 * sorted(samples)[rounds // 2], 3)


def bench_local(single: int, batched: int, batch: int, directory: Path) -> dict[str, Any]:
    results: dict[str, Any] = {"raw_fsync_median_ms": fsync_latency_ms(directory)}
    log = EventLog(directory / "single")
    results["single"] = timed(lambda rs: log.append(rs[0]), make_records(single, "s"), 1)
    log.close()
    log = EventLog(directory / "batched")
    results["batched"] = timed(log.append_many, make_records(batched, "b"), batch)
    started = time.perf_counter()
    offset, read = 0, 0
    while chunk := log.read(offset, batch):
        offset, read = chunk[-1][0] + 1, read + len(chunk)
    seconds = time.perf_counter() - started
    results["consumer_read"] = {"events": read, "batch": batch, "events_per_second": round(read / seconds)}
    log.close()
    started = time.perf_counter()
    recovered = EventLog(directory / "batched")
    results["reopen_recovery"] = {
        "events": len(recovered),
        "seconds": round(time.perf_counter() - started, 3),
    }
    recovered.close()
    return results


def bench_redis(url: str, single: int, batched: int, batch: int) -> dict[str, Any]:
    import redis

    from bento.ingestion.redis_log import RedisEventLog

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        return {"skipped": f"no Redis at {url}: {error}"}
    log = RedisEventLog(client, stream="bench", key_prefix=f"bench-{uuid.uuid4().hex}")
    try:
        results: dict[str, Any] = {
            "url": url,
            "server": client.info("server")["redis_version"],
            "durability": log.durability(),
            "single": timed(lambda rs: log.append(rs[0]), make_records(single, "s"), 1),
            "batched": timed(log.append_many, make_records(batched, "b"), batch),
        }
    finally:
        log.delete()
        client.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--single", type=int, default=3_000, help="events appended one per call")
    parser.add_argument("--batched", type=int, default=200_000, help="events appended in batches")
    parser.add_argument("--batch", type=int, default=500, help="events per append_many")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--dir", type=Path, help="where the local log goes (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    directory = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.dir))
    try:
        local = bench_local(args.single, args.batched, args.batch, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    result = {
        "local": local,
        "redis": {"skipped": "--no-redis"}
        if args.no_redis
        else bench_redis(args.redis_url, args.single, args.batched, args.batch),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "python": platform.python_version(),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()

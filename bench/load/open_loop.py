"""Open-loop load: requests leave at a fixed rate whether or not earlier ones have answered.

    python -m bench.load.open_loop --url http://127.0.0.1:3000 --rate 50 --duration 60 \
        --targets targets.json --key KEY --out run.json

A closed loop (send, wait, send) slows down with the server and hides its queue; here request i
is due at ``i / rate`` and its latency counts from when it was due, so a late client or a queued
server shows in the figure (no coordinated omission). Meant to run in its own process, beside the
service, never inside it. ``targets.json`` holds ``{"users": [...], "items": [...]}``: known users
and catalogue items to draw from; ``--unknown`` of the requests use a user nobody has seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# The surfaces' share of requests: the home feed most, related items on item pages, notifications.
SURFACE_MIX: Mapping[str, float] = {"home_feed": 0.6, "related_items": 0.25, "notifications": 0.15}
PAGE_SIZES: Mapping[str, int] = {"home_feed": 20, "related_items": 10, "notifications": 5}


@dataclass(frozen=True)
class Shot:
    due_s: float  # seconds after the start
    surface: str
    path: str
    body: dict[str, object]
    unknown_user: bool


@dataclass
class Outcome:
    surface: str
    status: int  # 0: no HTTP answer (connection error or client timeout)
    latency_ms: float  # from when the request was due
    lateness_ms: float  # how late the client sent it (a saturated load generator shows here)
    items: int = 0
    fallback_level: int | None = None
    server_ms: float | None = None
    stage_ms: dict[str, float] = field(default_factory=dict)
    unknown_user: bool = False


def plan(
    rate: float,
    duration_s: float,
    users: Sequence[str],
    items: Sequence[str],
    seed: int,
    unknown_share: float = 0.1,
    mix: Mapping[str, float] = SURFACE_MIX,
) -> list[Shot]:
    """The requests of one run, due every ``1 / rate`` seconds: mixed surfaces and users (pure)."""
    rng = np.random.default_rng(seed)
    n = int(rate * duration_s)
    names = list(mix)
    surfaces = rng.choice(names, size=n, p=np.asarray([mix[s] for s in names]) / sum(mix.values()))
    unknown = rng.random(n) < unknown_share
    shots = []
    for i in range(n):
        surface = str(surfaces[i])
        user = f"load-new-{seed}-{i}" if unknown[i] else str(users[rng.integers(len(users))])
        body: dict[str, object] = {"user_id": user, "page_size": PAGE_SIZES[surface]}
        if surface == "related_items":
            body["item_id"] = str(items[rng.integers(len(items))])
            path = "/related"
        else:
            body["surface"] = surface
            path = "/recommend"
        shots.append(Shot(i / rate, surface, path, body, bool(unknown[i])))
    return shots


async def _send(client, shot: Shot, start: float, key: str | None) -> Outcome:
    await asyncio.sleep(max(0.0, start + shot.due_s - time.perf_counter()))
    due = start + shot.due_s
    lateness = (time.perf_counter() - due) * 1000
    headers = {"authorization": f"Bearer {key}"} if key else {}
    outcome = Outcome(shot.surface, 0, 0.0, lateness, unknown_user=shot.unknown_user)
    try:
        reply = await client.post(shot.path, json=shot.body, headers=headers)
        outcome.status = reply.status_code
        if reply.status_code == 200:
            data = reply.json()
            meta = data.get("metadata", {})
            outcome.items = len(data.get("items", []))
            outcome.fallback_level = meta.get("fallback_level")
            outcome.server_ms = meta.get("latency_ms")
            outcome.stage_ms = dict(meta.get("stage_ms") or {})
    except Exception:  # a refused or timed-out connection is an error row, not a crash
        outcome.status = 0
    outcome.latency_ms = (time.perf_counter() - due) * 1000
    return outcome


async def fire(url: str, shots: Sequence[Shot], key: str | None, timeout_s: float) -> list[Outcome]:
    import httpx

    limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:
        start = time.perf_counter() + 0.2
        return list(await asyncio.gather(*(_send(client, s, start, key) for s in shots)))


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=float)
    return {f"p{q}": round(float(np.percentile(arr, q)), 2) for q in (50, 95, 99)} | {
        "max": round(float(arr.max()), 2)
    }


def summarise(outcomes: Sequence[Outcome], rate: float, duration_s: float) -> dict[str, object]:
    """End-to-end and per-stage percentiles, error, shed and fallback rates of one run (pure)."""
    n = max(len(outcomes), 1)
    ok = [o for o in outcomes if o.status == 200]
    levels: dict[str, int] = {}
    for o in ok:
        levels[str(o.fallback_level)] = levels.get(str(o.fallback_level), 0) + 1
    stages = sorted({name for o in ok for name in o.stage_ms})
    return {
        "rate_per_s": rate,
        "duration_s": duration_s,
        "requests": len(outcomes),
        "latency_ms": _percentiles([o.latency_ms for o in ok]),
        "server_latency_ms": _percentiles([o.server_ms for o in ok if o.server_ms is not None]),
        "client_lateness_ms": _percentiles([o.lateness_ms for o in outcomes]),
        "by_surface": {
            s: _percentiles([o.latency_ms for o in ok if o.surface == s])
            for s in sorted({o.surface for o in ok})
        },
        "stage_ms": {s: _percentiles([o.stage_ms[s] for o in ok if s in o.stage_ms]) for s in stages},
        "error_rate": sum(o.status == 0 or (o.status >= 500 and o.status != 503) for o in outcomes) / n,
        "shed_rate": sum(o.status == 503 for o in outcomes) / n,
        "throttled_rate": sum(o.status == 429 for o in outcomes) / n,
        "client_error_rate": sum(400 <= o.status < 500 and o.status != 429 for o in outcomes) / n,
        "empty_pages": sum(o.items == 0 for o in ok),
        "fallback_levels": levels,
        "fallback_rate": sum(o.fallback_level not in (0, None) for o in ok) / max(len(ok), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--targets", required=True, help="JSON file: {'users': [...], 'items': [...]}")
    parser.add_argument("--key", help="client API key (Authorization: Bearer)")
    parser.add_argument("--unknown", type=float, default=0.1, help="share of never-seen users")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout per request, s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the summary (and the raw outcomes) to this JSON file")
    args = parser.parse_args(argv)
    targets = json.loads(Path(args.targets).read_text())
    shots = plan(args.rate, args.duration, targets["users"], targets["items"], args.seed, args.unknown)
    outcomes = asyncio.run(fire(args.url, shots, args.key, args.timeout))
    summary = summarise(outcomes, args.rate, args.duration)
    print(json.dumps(summary, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "outcomes": [asdict(o) for o in outcomes]}))


if __name__ == "__main__":
    main()

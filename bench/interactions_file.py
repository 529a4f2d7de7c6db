"""A seeded synthetic review file shaped like one Amazon reviews category, to size the loop on.

    python -m bench.interactions_file --out /tmp/reviews.tsv                   # ~300k lines
    python -m bench.interactions_file --out /tmp/reviews.jsonl --format jsonl  # Amazon-style JSON

Why synthetic: real review dumps may not be redistributed and nothing here downloads data, yet the
loop must be measured on a file of real size. Users' activity and items' popularity are power laws
(most users write one or two reviews, a few write hundreds; a few items take most reviews), every
user leans to one of ``topics`` item groups so that collaborative models have something to learn,
and each (user, item) pair appears once, as in a review file. Formats:

* ``txt``: headerless ``user item`` lines (the plainest interactions file);
* ``tsv``: a header ``user	item[	timestamp][	rating]`` and one row per review;
* ``jsonl``: one object per line with Amazon's field names (``reviewerID``, ``asin``,
  ``unixReviewTime``, ``overall``, plus ``reviewText`` and ``summary`` that a reader must skip), read
  with ``RECO_SOURCE_COLUMNS=user=reviewerID,item=asin,timestamp=unixReviewTime,rating=overall``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

Format = Literal["txt", "tsv", "jsonl"]
JSONL_COLUMNS = "user=reviewerID,item=asin,timestamp=unixReviewTime,rating=overall"
_START = 1_356_998_400  # 2013-01-01 UTC: reviews span the years after it
_DAY = 86_400
_WORDS = np.array(
    ["good", "great", "fine", "poor", "works", "broke", "love", "okay", "cheap", "solid", "value", "returned"]
)


@dataclass(frozen=True)
class ReviewFileSpec:
    """Sizes and shapes of the generated file; the defaults are one mid-sized Amazon category."""

    lines: int = 300_000
    users: int = 60_000
    items: int = 24_000
    topics: int = 60  # item groups; a user draws ``topic_share`` of their reviews from their own
    topic_share: float = 0.8
    user_exponent: float = 1.1  # Zipf-Mandelbrot exponent of user activity (by activity rank) ...
    user_offset: float = 20.0  # ... and its rank offset: the busiest user writes ~1,500 reviews, not 7,000
    item_exponent: float = 0.9  # Zipf exponent of item popularity
    days: int = 1_500  # span of the review times
    timestamps: bool = True
    ratings: bool = True
    seed: int = 0


def _zipf(n: int, exponent: float, rng: np.random.Generator, offset: float = 0.0) -> np.ndarray:
    """Weights of ``n`` ranks, shuffled so that popularity is not the id order."""
    weights = 1.0 / (np.arange(1, n + 1) + offset) ** exponent
    return rng.permutation(weights / weights.sum())


def _pairs(spec: ReviewFileSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, item) positions, ``spec.lines`` of them (fewer only if the space runs out)."""
    user_weight = _zipf(spec.users, spec.user_exponent, rng, spec.user_offset)
    item_weight = _zipf(spec.items, spec.item_exponent, rng)
    topic_of_item = rng.integers(0, spec.topics, spec.items)
    topic_of_user = rng.integers(0, spec.topics, spec.users)
    by_topic = np.argsort(topic_of_item, kind="stable")  # items laid out topic after topic
    cdf = np.cumsum(item_weight[by_topic])
    bounds = np.concatenate([[0.0], np.cumsum(np.bincount(topic_of_item, item_weight, spec.topics))])
    global_cdf = np.cumsum(item_weight)
    users, items = np.zeros(0, np.int64), np.zeros(0, np.int64)
    while len(users) < spec.lines:
        n = int((spec.lines - len(users)) * 1.2) + 1000
        user = rng.choice(spec.users, size=n, p=user_weight)
        own = rng.random(n) < spec.topic_share
        topic = topic_of_user[user]
        low, high = bounds[topic], bounds[topic + 1]
        in_topic = by_topic[
            np.minimum(np.searchsorted(cdf, low + rng.random(n) * (high - low)), spec.items - 1)
        ]
        anywhere = np.minimum(np.searchsorted(global_cdf, rng.random(n) * global_cdf[-1]), spec.items - 1)
        users = np.concatenate([users, user])
        items = np.concatenate([items, np.where(own, in_topic, anywhere)])
        _, first = np.unique(users * spec.items + items, return_index=True)
        first = np.sort(first)
        if len(first) == len(users) - n:  # nothing new could be drawn: the space is exhausted
            break
        users, items = users[first], items[first]
    return users[: spec.lines], items[: spec.lines]


def review_frame(spec: ReviewFileSpec) -> pd.DataFrame:
    """The reviews as ``user, item[, timestamp][, rating]`` rows, in time order when timed."""
    rng = np.random.default_rng(spec.seed)
    users, items = _pairs(spec, rng)
    frame = pd.DataFrame(
        {"user": np.char.add("A", users.astype(str)), "item": np.char.add("B", items.astype(str))}
    )
    if spec.timestamps:
        joined = rng.integers(0, spec.days, spec.users)[users]  # a user's reviews start on their own day
        # ... and follow it by exponential gaps truncated to the span (clipping would pile a spike
        # of reviews onto the last day, which the volume gate rightly takes for a broken feed)
        scale, left = spec.days / 6, spec.days - 1 - joined
        offset = -scale * np.log1p(-rng.random(len(users)) * -np.expm1(-(left + 1) / scale))
        day = joined + np.minimum(np.floor(offset).astype(np.int64), left)
        frame["timestamp"] = _START + day * _DAY  # day resolution, like unixReviewTime
    if spec.ratings:
        frame["rating"] = rng.choice(
            [1.0, 2.0, 3.0, 4.0, 5.0], size=len(users), p=[0.06, 0.05, 0.09, 0.2, 0.6]
        )
    if spec.timestamps:
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return frame


def _json_lines(frame: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    words = _WORDS[rng.integers(0, len(_WORDS), (len(frame), 6))]
    text = [" ".join(row) for row in words]
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        record = {"reviewerID": row.user, "asin": row.item, "reviewText": text[i], "summary": text[i][:12]}
        if "rating" in frame:
            record["overall"] = float(row.rating)
        if "timestamp" in frame:
            record["unixReviewTime"] = int(row.timestamp)
        out.append(json.dumps(record))
    return out


def write_review_file(path: Path | str, spec: ReviewFileSpec, fmt: Format = "tsv") -> dict[str, object]:
    """Write the file and return what is in it (lines, distinct users and items, the spec)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = review_frame(spec)
    if fmt == "txt":
        frame[["user", "item"]].to_csv(path, sep=" ", header=False, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(_json_lines(frame, np.random.default_rng(spec.seed + 1))) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return {
        "path": str(path),
        "format": fmt,
        "lines": len(frame),
        "users": int(frame["user"].nunique()),
        "items": int(frame["item"].nunique()),
        "bytes": path.stat().st_size,
        "spec": asdict(spec),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.interactions_file", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=["txt", "tsv", "jsonl"], default=None, help="default: by suffix")
    parser.add_argument("--lines", type=int, default=ReviewFileSpec.lines)
    parser.add_argument("--users", type=int, default=ReviewFileSpec.users)
    parser.add_argument("--items", type=int, default=ReviewFileSpec.items)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-timestamps", action="store_true")
    parser.add_argument("--no-ratings", action="store_true")
    args = parser.parse_args(argv)
    fmt = args.format or {".jsonl": "jsonl", ".json": "jsonl", ".tsv": "tsv"}.get(args.out.suffix, "txt")
    spec = ReviewFileSpec(
        lines=args.lines, users=args.users, items=args.items, seed=args.seed,
        timestamps=not args.no_timestamps, ratings=not args.no_ratings,
    )  # fmt: skip
    print(json.dumps(write_review_file(args.out, spec, fmt), indent=2))


if __name__ == "__main__":
    main()

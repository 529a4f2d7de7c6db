"""Item manipulation signals: a spike in an item's clicks or conversions that a few accounts made.

Raw events are judged here, not trust-weighted ones: the question is what happened to the item.
An item is flagged when, for one signal (clicks, conversions), its count in the last
``window_hours`` is at least ``min_events`` and ``min_ratio`` times what its baseline rate
predicts, and the spike is concentrated: the top ``top_users`` accounts made ``top_share`` of it,
or each account made ``per_user`` events on average, or down-weighted accounts made
``low_trust_share`` of it. An organic trend (many people, once each) is none of these. Flags are
evidence for a reviewer; nothing is removed.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from contracts.trust import event_trust
from training.trust.config import ManipulationConfig

FLAG_COLUMNS = [
    "item_id", "signal", "as_of", "reasons", "recent", "expected", "ratio", "accounts", "evidence",
]  # fmt: skip
EVIDENCE_COLUMNS = ["item_id", "signal", "user_id", "events"]


def _window(events: pd.DataFrame, as_of: pd.Timestamp, config: ManipulationConfig) -> tuple[pd.Series, ...]:
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    age = as_of - stamps
    recent = (age >= pd.Timedelta(0)) & (age < pd.Timedelta(hours=config.window_hours))
    base = (age >= pd.Timedelta(hours=config.window_hours)) & (age < pd.Timedelta(days=config.baseline_days))
    return recent, base


def _concentration(recent: pd.DataFrame, config: ManipulationConfig) -> pd.DataFrame:
    """Per item: distinct accounts, the top accounts' share, events per account, low-trust share."""
    grouped = recent.groupby(["item_id", "user_id"], sort=False)
    per_user = grouped.agg(events=("w", "size"), trust=("w", "min"))
    per_user = per_user.sort_values("events", ascending=False, kind="stable")
    by_item = per_user.groupby(level="item_id", sort=False)
    total = by_item["events"].sum()
    top = by_item["events"].apply(lambda s: s.head(config.top_users).sum())
    low = per_user["events"].where(per_user["trust"] < 1.0, 0).groupby(level="item_id", sort=False).sum()
    return pd.DataFrame(
        {
            "accounts": by_item.size(),
            "top_share": top / total,
            "per_user": total / by_item.size(),
            "low_trust_share": low / total,
        }
    )


def manipulation_flags(
    events: pd.DataFrame, as_of: pd.Timestamp, config: ManipulationConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flagged (item, signal) rows (``FLAG_COLUMNS``; ``evidence`` a JSON object) and their top
    accounts (``EVIDENCE_COLUMNS``), as of ``as_of``. Events may carry trust weights."""
    as_of = pd.Timestamp(as_of)
    as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    frame = pd.DataFrame(
        {
            "user_id": events["user_id"].astype(str).to_numpy(),
            "item_id": events["item_id"].astype(str).to_numpy(),
            "event_type": events["event_type"].astype(str).to_numpy(),
            "timestamp": pd.to_datetime(events["timestamp"], utc=True).reset_index(drop=True),
            "w": event_trust(events),
        }
    )
    recent_mask, base_mask = _window(frame, as_of, config)
    base_hours = max(config.baseline_days * 24 - config.window_hours, 1)
    flags, evidence = [], []
    for signal, kinds in config.signals.items():
        of_kind = frame["event_type"].isin(list(kinds)).to_numpy()
        recent = frame[recent_mask.to_numpy() & of_kind]
        if recent.empty:
            continue
        counts = recent.groupby("item_id").size()
        rate = frame[base_mask.to_numpy() & of_kind].groupby("item_id").size() / base_hours
        expected = rate.reindex(counts.index, fill_value=0.0) * config.window_hours
        ratio = counts / (expected + config.baseline_prior)
        spiking = counts[(counts >= config.min_events) & (ratio >= config.min_ratio)].index
        if not len(spiking):
            continue
        conc = _concentration(recent[recent["item_id"].isin(spiking)], config)
        for item in spiking:
            row = conc.loc[item]
            reasons = [
                name
                for name, hit in (
                    ("few_accounts", row["top_share"] >= config.top_share),
                    ("repeat_events", row["per_user"] >= config.per_user),
                    ("low_trust_accounts", row["low_trust_share"] >= config.low_trust_share),
                )
                if hit
            ]
            if not reasons:
                continue  # a spike many people made: a trend, not a manipulation
            flags.append(
                {
                    "item_id": item,
                    "signal": signal,
                    "as_of": as_of,
                    "reasons": ",".join(["spike", *reasons]),
                    "recent": int(counts[item]),
                    "expected": round(float(expected[item]), 3),
                    "ratio": round(float(ratio[item]), 2),
                    "accounts": int(row["accounts"]),
                    "evidence": json.dumps(
                        {
                            "window_hours": config.window_hours,
                            "baseline_days": config.baseline_days,
                            "top_share": round(float(row["top_share"]), 4),
                            "per_user": round(float(row["per_user"]), 2),
                            "low_trust_share": round(float(row["low_trust_share"]), 4),
                        }
                    ),
                }
            )
            top = recent[recent["item_id"] == item].groupby("user_id").size()
            top = top.sort_values(ascending=False, kind="stable").head(config.evidence_users)
            evidence += [(item, signal, user, int(n)) for user, n in top.items()]
    return (
        pd.DataFrame(flags, columns=FLAG_COLUMNS),
        pd.DataFrame(evidence, columns=EVIDENCE_COLUMNS).astype({"events": np.int64}),
    )

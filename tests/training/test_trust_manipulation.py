"""Item manipulation flags, pure: a spike a few accounts made is flagged; a trend is not."""

from __future__ import annotations

import json

import pandas as pd

from contracts.trust import TRUST_WEIGHT
from training.trust.config import ManipulationConfig
from training.trust.manipulation import manipulation_flags

AS_OF = pd.Timestamp("2026-01-10 12:00", tz="UTC")


def events(rows: list[tuple[str, str, str, float]], weights: dict[str, float] | None = None) -> pd.DataFrame:
    """(user, item, type, hours before AS_OF) rows."""
    users, items, kinds, hours = zip(*rows, strict=True)
    frame = pd.DataFrame(
        {
            "user_id": users,
            "item_id": items,
            "event_type": kinds,
            "timestamp": [AS_OF - pd.Timedelta(hours=h) for h in hours],
        }
    )
    if weights is not None:
        frame[TRUST_WEIGHT] = frame["user_id"].map(weights).fillna(1.0)
    return frame


def steady_background() -> list[tuple[str, str, str, float]]:
    """Every item clicked about twice a day by different people over the past week."""
    return [
        (f"p{d}{k}", f"i{k}", "click", 24.0 * d + 3.0 + k) for d in range(7) for k in range(5) for _ in (0, 1)
    ]


def test_a_spike_from_few_accounts_is_flagged_with_its_evidence() -> None:
    farm = [(f"bot{b}", "i1", "click", 1.0 + 0.01 * n) for b in range(6) for n in range(10)]
    farm += [(f"bot{b}", "i1", "purchase", 1.0) for b in range(6) for _ in range(4)]
    flags, accounts = manipulation_flags(
        events(steady_background() + farm, {f"bot{b}": 0.01 for b in range(6)}), AS_OF, ManipulationConfig()
    )
    by_signal = flags.set_index("signal")
    assert set(flags["item_id"]) == {"i1"} and set(by_signal.index) == {"clicks", "conversions"}
    clicks = by_signal.loc["clicks"]
    assert clicks["recent"] == 62 and clicks["accounts"] == 7  # six bots and one person
    assert set(clicks["reasons"].split(",")) == {
        "spike",
        "few_accounts",
        "repeat_events",
        "low_trust_accounts",
    }
    evidence = json.loads(clicks["evidence"])
    assert evidence["top_share"] == 1.0 and round(evidence["low_trust_share"], 2) == round(60 / 62, 2)
    flagged = accounts.loc[accounts["signal"] == "clicks"].sort_values("events", ascending=False)
    assert set(flagged["user_id"].head(6)) == {f"bot{b}" for b in range(6)}


def test_an_organic_trend_is_not_flagged() -> None:
    crowd = [(f"fan{n}", "i2", "click", 2.0 + 0.01 * n) for n in range(80)]  # 80 people, once each
    flags, _ = manipulation_flags(events(steady_background() + crowd), AS_OF, ManipulationConfig())
    assert flags.empty


def test_steady_volume_is_not_a_spike() -> None:
    heavy = [(f"h{n % 3}", "i3", "click", 0.5 * n) for n in range(7 * 48)]  # three fans, all week
    flags, _ = manipulation_flags(events(heavy), AS_OF, ManipulationConfig())
    assert flags.empty  # concentrated, but no rise over the baseline

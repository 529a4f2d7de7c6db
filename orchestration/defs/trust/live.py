"""Trust for the 5-minute trending refresh: a farm that starts after the daily scores is new to them.

The refresh scores the accounts in its own window too (bursts, blind clicks, young accounts and
co-ordination are all visible within hours) and takes, per account, the lower of that and the
daily weight: the daily score remembers a farm that went quiet, the window score catches one
that just began.
"""

from __future__ import annotations

import pandas as pd

from contracts.settings import PlatformPaths
from orchestration.defs.common.warehouse import read_table, table_path
from orchestration.defs.trust.store import attach, read_weights
from training.trust.config import TrustConfig, load_trust_config
from training.trust.score import score_users


def window_weights(
    paths: PlatformPaths, events: pd.DataFrame, config: TrustConfig | None = None
) -> pd.Series:
    """``user_id`` → the lower of the daily weight and the weight the window's events earn."""
    config = config or load_trust_config()
    known = table_path(paths, "users").exists()
    users = read_table(paths, "users", ["user_id", "signup_ts"]) if known else None
    scored, _ = score_users(events[events["user_id"].notna()], users, config)  # anonymous: weight 1
    live = pd.Series(scored["weight"].to_numpy("float64"), index=scored["user_id"].astype(str))
    daily = read_weights(paths)
    both = pd.concat([live, daily], axis=1)
    return both.min(axis=1)


def with_window_trust(paths: PlatformPaths, events: pd.DataFrame) -> pd.DataFrame:
    """The window's events, each with its account's weight (see :func:`window_weights`)."""
    return attach(events, window_weights(paths, events))

"""Trust and safety: a trust score per account, and items whose engagement a few accounts made.

``user_trust`` scores every account from the events table (bursts, blind and unread clicks, a young
account's volume, co-ordinated item sets) and writes the weight its events carry; the consumers
(batch features, co-interaction, trending, item kNN, EASE, ALS, the segment lists, the ranker's
rows, the live trending refresh) multiply their counts by it. Nothing is deleted. ``review_queue``
flags items for a person (``review_queue.py``); its check warns while any flag is open.
"""

import dagster as dg
import pandas as pd

from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.ingestion.assets import events, users
from orchestration.defs.trust.review_queue import merge_flags, open_flags, read_queue, write_queue
from orchestration.defs.trust.store import attach, read_weights, write_user_trust
from training.trust.config import load_trust_config
from training.trust.manipulation import manipulation_flags
from training.trust.score import SEVERITIES, score_users

GROUP = "trust"
COLUMNS = ["user_id", "item_id", "event_type", "timestamp"]


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[events, users], freshness_policy=DAILY_LOOP)
def user_trust(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Trust in [0, 1] per account and the weight its events carry (``config/trust.yaml``)."""
    paths = platform.settings.paths
    config = load_trust_config()
    table, thresholds = score_users(
        read_table(paths, "events", COLUMNS), read_table(paths, "users", ["user_id", "signup_ts"]), config
    )
    write_user_trust(paths, table)
    counts = read_table(paths, "events", ["user_id"])["user_id"].astype(str).value_counts()
    weights = table.set_index("user_id")["weight"]
    reduced = weights[weights < 1.0]
    low_share = float(counts.reindex(reduced.index).sum() / max(counts.sum(), 1))
    context.log.info(f"{len(reduced)} of {len(table)} accounts down-weighted ({low_share:.2%} of events)")
    return dg.MaterializeResult(
        metadata={
            "accounts": len(table),
            "down_weighted_accounts": len(reduced),
            "down_weighted_event_share": round(low_share, 5),
            "weights_applied": config.enabled,
            "mean_trust": float(table["trust"].mean()) if len(table) else 1.0,
            "accounts_by_signal": dg.MetadataValue.json(
                {name: int((table[f"severity_{name}"] > 0).sum()) for name in SEVERITIES}
            ),
            "thresholds": dg.MetadataValue.json({k: round(v, 3) for k, v in thresholds.items()}),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[user_trust], freshness_policy=DAILY_LOOP)
def review_queue(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Items whose clicks or conversions spiked from a few (or low-trust) accounts, queued with
    their evidence for a person to review (``$RECO_HOME/trust/review_queue.parquet``)."""
    paths = platform.settings.paths
    config = load_trust_config().manipulation
    frame = attach(read_table(paths, "events", COLUMNS), read_weights(paths))
    as_of = pd.to_datetime(frame["timestamp"], utc=True).max()
    flags, accounts = manipulation_flags(frame, as_of, config)
    queue = merge_flags(read_queue(paths), flags, pd.Timestamp.now(tz="UTC"))
    write_queue(paths, queue, accounts)
    pending = open_flags(queue)
    if len(flags):
        context.log.warning(f"{len(flags)} item(s) flagged for manipulation review as of {as_of}")
    return dg.MaterializeResult(
        metadata={
            "as_of": str(as_of),
            "flagged_now": len(flags),
            "open": len(pending),
            "queued": len(queue),
            "flags": dg.MetadataValue.json(
                flags[["item_id", "signal", "reasons", "recent", "ratio", "accounts"]].to_dict("records")
            ),
            "path": str(paths.trust / "review_queue.parquet"),
        }
    )

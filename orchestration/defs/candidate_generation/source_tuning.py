"""Source tuning: the ALS and EASE settings this build serves, chosen on its own held-out data.

Fit on what a model at the label cut may see (the events before it, the preference holdout left
out); scored on what it may not (the hidden preferences and the label window's engagements) of
every user but the offline evaluation's, who stay unseen for the evaluation and the gate. The
served and at-cut fits of both sources (``assets.als_factors``, ``assets.ease_neighbours``) read
the choice; trials and the winner are in the asset's metadata.
"""

import json
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from contracts.settings import PlatformPaths
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import evaluation_users, hidden_preferences, without_hidden
from orchestration.defs.common.warehouse import positive_events, read_table
from orchestration.defs.features.assets import batch_features, load_split
from orchestration.defs.trust.assets import user_trust
from orchestration.defs.trust.store import with_trust
from training.candidates.source_tuning import TunedSources, tune_sources
from training.config import ALSConfig, EASEConfig, SourceTuningConfig

GROUP = "candidate_generation"
SOURCE_TUNING_FILE = "source_tuning.json"


def source_tuning_path(paths: PlatformPaths) -> Path:
    return paths.artifacts / SOURCE_TUNING_FILE


def tuned_sources(paths: PlatformPaths) -> TunedSources:
    """This build's choice, or the configured defaults before a first tuning."""
    path = source_tuning_path(paths)
    if not path.exists():
        return TunedSources(ALSConfig(), EASEConfig(), {}, 0)
    return TunedSources.from_dict(json.loads(path.read_text()))


def tuning_data(positives: pd.DataFrame, cut: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(seen, held out): the at-cut fit's engagements, and the hidden preferences plus the label
    window's engagements of every user outside the offline evaluation."""
    before = (positives["timestamp"] < cut).to_numpy()
    seen = without_hidden(positives[before], cut)
    held = positives[hidden_preferences(positives, cut) | ~before]
    users = held["user_id"].astype(str)
    held = held[~users.isin(evaluation_users(users.unique()))]
    return seen, held


def trials_table(tuned: TunedSources, metric: str) -> str:
    lines = [f"| source | settings | {metric} | seconds |", "|---|---|---|---|"]
    for source, trials in tuned.trials.items():
        for trial in sorted(trials, key=lambda t: -t[metric]):
            settings = ", ".join(f"{k}={v}" for k, v in sorted(trial["params"].items()))
            lines.append(f"| {source} | {settings} | {trial[metric]:.4f} | {trial['seconds']} |")
    return "\n".join(lines)


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features, user_trust], freshness_policy=DAILY_LOOP)
def source_tuning(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """ALS factors, regularization and confidence, and EASE's L2, searched one axis at a time on
    this data's own held-out engagements (``SourceTuningConfig``)."""
    paths = platform.settings.paths
    config = SourceTuningConfig()
    started = time.perf_counter()
    columns = ["user_id", "item_id", "event_type", "timestamp"]
    positives = positive_events(with_trust(paths, read_table(paths, "events", columns)))  # fits weigh trust
    seen, held = tuning_data(positives, load_split(platform).cut)
    tuned = tune_sources(seen, held, config)
    path = source_tuning_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tuned.to_dict(), indent=1))
    context.log.info("sources tuned: ALS %s, EASE %s", tuned.als, tuned.ease)
    return dg.MaterializeResult(
        metadata={
            "als": dg.MetadataValue.json(tuned.als.to_dict()),
            "ease": dg.MetadataValue.json(tuned.ease.to_dict()),
            "validation_users": tuned.validation_users,
            "trials": dg.MetadataValue.md(trials_table(tuned, config.metric)),
            "seconds": round(time.perf_counter() - started, 1),
            "enabled": config.enabled,
        }
    )

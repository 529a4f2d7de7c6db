"""Blocking data-quality check on the ranker's training set, before a model learns from it."""

import dagster as dg
import pandas as pd

from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.quality.results import TableCheck, evaluate
from orchestration.defs.quality.suites import training_set_expectations
from orchestration.defs.quality.validation import validate
from orchestration.defs.ranking.assets import TRAINING_SET_FILE, training_set


@dg.asset_check(
    asset=training_set,
    blocking=True,
    description="Great Expectations over the training set: every ranker input present and finite, "
    "labels in {0, 1}, known surfaces, a sane positive rate.",
)
def training_set_quality(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource
) -> dg.AssetCheckResult:
    paths = platform.settings.paths
    frame = pd.read_parquet(paths.features / TRAINING_SET_FILE)
    outcome = validate("training_set", frame, training_set_expectations())
    return evaluate(
        context, paths, [TableCheck(frame, outcome, {"positive_rate": float(frame["label"].mean())})]
    )

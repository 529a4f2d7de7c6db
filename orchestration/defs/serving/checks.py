"""The promotion gate: a blocking check on the candidate bundle, before production may move.

A failure stops ``production_model`` (production stays where it is) and fails the run, so the
run-failure sensor tells on-call which rule blocked which version, with every number.
"""

import json

import dagster as dg
import numpy as np
import pandas as pd
import torch

from contracts.features import RANKER_INPUTS
from contracts.registry import write_atomic
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.ranking.assets import TRAINING_SET_FILE
from orchestration.defs.serving.assets import candidate_version, registry_for, serving_bundle
from orchestration.defs.serving.promotion import (
    Verdict,
    check_scores,
    compare_metrics,
    load_promotion_config,
    measure_latency,
    sample_rows,
)
from training.export import load_ranker


@dg.asset_check(
    asset=serving_bundle,
    blocking=True,
    description="Promotion gate: offline metrics within the configured drop of production's, finite "
    "in-range scores on 1,000 real candidates per surface, p99 latency of a 1,000-candidate batch within "
    "budget (config/promotion.yaml).",
)
def promotion_gate(context: dg.AssetCheckExecutionContext, platform: PlatformResource) -> dg.AssetCheckResult:
    config = load_promotion_config().gate
    settings = platform.settings
    registry = registry_for(settings)
    version = candidate_version(context.instance)
    record = registry.get(version)
    pointer = registry.production()
    production = pointer.current if pointer is not None else None

    verdicts = [compare_metrics(record.metrics, production.metrics if production else None, config)]
    lineage = json.loads((registry.path(version) / "bundle.json").read_text())
    if "ranking" in lineage:  # which order this version serves, decided by ``ranker_verdict``
        ranking = lineage["ranking"]
        verdicts.append(Verdict(name="ranker_beats_retrieval_order", passed=True, detail=ranking))
    table = pd.read_parquet(settings.paths.features / TRAINING_SET_FILE, columns=list(RANKER_INPUTS))
    rows = sample_rows(table.to_numpy(np.float32), config.candidates, seed=platform.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the Ranker service scores: one intra-op thread per request
    try:
        ranker = load_ranker(registry.path(version) / "ranker")
        verdicts.append(
            Verdict(name="loads_and_warms_up", passed=True, detail={"device": str(ranker.device)})
        )
        verdicts.append(check_scores(ranker.score, rows, config))
        verdicts.append(measure_latency(ranker.score, rows, config))
    except (ValueError, RuntimeError) as error:  # manifest mismatch, NaN on warm-up, a broken file
        verdicts.append(Verdict(name="loads_and_warms_up", passed=False, detail={"error": str(error)}))
    finally:
        torch.set_num_threads(threads)

    passed = all(v.passed for v in verdicts)
    failed = [v.name for v in verdicts if not v.passed]
    report = {
        "version": version,
        "production_version": production.version if production else None,
        "passed": passed,
        "failed_rules": failed,
        "rules": [v.model_dump() for v in verdicts],
    }
    write_atomic(registry.gate_file(version), json.dumps(report, indent=2))
    metadata: dict[str, object] = {
        "candidate_version": version,
        "production_version": report["production_version"] or "none",
        "failed_rules": dg.MetadataValue.json(failed),
    }
    for verdict in verdicts:
        for key, value in verdict.detail.items():
            metadata[f"{verdict.name}/{key}"] = "n/a" if value is None else value
    if failed:
        context.log.warning(f"promotion gate blocked {version}: {failed}")
    return dg.AssetCheckResult(passed=passed, metadata=metadata)

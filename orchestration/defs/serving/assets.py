"""Serving: fallback lists and the BentoML bundle (model store entry + bento), tagged by version."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from contracts.settings import REPO_ROOT, PlatformPaths, PlatformSettings
from orchestration.defs.candidate_generation.assets import item_index
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.evaluation.assets import offline_evaluation
from orchestration.defs.features.assets import load_split, online_features
from orchestration.defs.serving.fallbacks import fallback_lists as compute_fallback_lists
from training.export import read_manifest

GROUP = "serving"
BUNDLE_MODEL = "reco_bundle"
BENTO_NAME = "reco"
BENTO_INCLUDE = ["bento/**/*.py", "contracts/**/*.py", "training/**/*.py", "feature_repo/**", "config/*.yaml"]
CATALOGUE_COLUMNS = ["item_id", "category", "brand", "title", "price", "created_at", "in_stock", "sponsored"]


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[online_features], freshness_policy=DAILY_LOOP)
def fallback_lists(platform: PlatformResource) -> dg.MaterializeResult:
    """Global popular, per-segment popular, trending and new arrivals: the never-empty floor."""
    paths = platform.settings.paths
    split = load_split(platform)
    stats = pd.read_parquet(paths.features / "item_stats.parquet")
    latest = stats[pd.to_datetime(stats["event_timestamp"], utc=True) == split.end]
    lists = compute_fallback_lists(
        read_table(paths, "events"), read_table(paths, "items"), read_table(paths, "users"), latest
    )
    area = staging(paths)
    area.fallbacks.write_text(json.dumps(lists))
    read_table(paths, "items", CATALOGUE_COLUMNS).to_parquet(area.catalogue, index=False)
    return dg.MaterializeResult(
        metadata={
            "popular": len(lists["popular"]),
            "segments": len(lists["segments"]),
            "trending": len(lists["trending"]),
            "top_popular": dg.MetadataValue.json(lists["popular"][:10]),
        }
    )


def _pinned_packages() -> list[str]:
    lines = (REPO_ROOT / "requirements.lock").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def current_bundle_file(paths: PlatformPaths) -> Path:
    return paths.artifacts / "current.json"


def source_fingerprint(settings: PlatformSettings) -> str:
    return settings.source.model_dump_json()


def _copy_bundle(area_root: Path, target: Path) -> None:
    for entry in area_root.iterdir():
        destination = target / entry.name
        if entry.is_dir():
            shutil.copytree(entry, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, destination)


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[item_index, offline_evaluation, fallback_lists],
    freshness_policy=DAILY_LOOP,
)
def serving_bundle(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Save every artifact as one BentoML model and build the bento through BentoML's build API."""
    import bentoml  # serving is the only stage that needs BentoML's model store

    settings = platform.settings
    area = staging(settings.paths)
    manifest = read_manifest(area.ranker)
    version = manifest["model_version"]
    evaluation = json.loads(area.evaluation.read_text())
    lineage = {
        "model_version": version,
        "source": settings.source.kind,
        "time_split": {k: str(v) for k, v in vars(load_split(platform)).items()},
        "feature_service": manifest["feature_service"],
        "evaluation": evaluation["models"]["ours"],
    }
    (area.root / "bundle.json").write_text(json.dumps(lineage, indent=2))
    with bentoml.models.create(
        f"{BUNDLE_MODEL}:{version}", labels={"model_version": version}, metadata=lineage
    ) as model:
        _copy_bundle(area.root, Path(model.path))
    bento = bentoml.bentos.build(
        "bento.service:Recommender",
        name=BENTO_NAME,
        version=version,
        labels={"model_version": version},
        include=BENTO_INCLUDE,
        models=[f"{BUNDLE_MODEL}:{version}"],
        python={"packages": _pinned_packages()},
        build_ctx=str(REPO_ROOT),
    )
    context.log.info(f"built bento {bento.tag}")
    current = {
        "bento": str(bento.tag),
        "model": f"{BUNDLE_MODEL}:{version}",
        "model_version": version,
        "source": source_fingerprint(settings),
        "built_at": datetime.now(UTC).isoformat(),
    }
    current_bundle_file(settings.paths).write_text(json.dumps(current, indent=2))
    return dg.MaterializeResult(
        metadata={"bento": str(bento.tag), "model": f"{BUNDLE_MODEL}:{version}", "model_version": version}
    )

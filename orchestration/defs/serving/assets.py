"""Serving: fallback lists, the candidate bundle (registered version + bento) and its promotion.

``serving_bundle`` registers the candidate in the model registry; the blocking ``promotion_gate``
check (``checks.py``) judges it; only then does ``production_model`` move the production pointer.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from bentoml.exceptions import NotFound

from contracts.settings import REPO_ROOT, PlatformPaths, PlatformSettings
from orchestration.defs.candidate_generation.assets import (
    als_factors,
    co_interaction,
    content_index,
    ease_neighbours,
    editorial,
    item_index,
    item_knn,
    trending,
)
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import positive_events, read_table
from orchestration.defs.evaluation.assets import offline_evaluation
from orchestration.defs.features.assets import load_split, online_features
from orchestration.defs.ranking.replay import PREFERENCE_HOLDOUT, RANKED, RETRIEVAL_ORDER
from orchestration.defs.ranking.replay_scores import RANKER_GAINS
from orchestration.defs.serving.fallbacks import fallback_lists as compute_fallback_lists
from orchestration.defs.serving.promotion import SERVED_RANKED, load_promotion_config, ranker_verdict
from orchestration.defs.serving.publish import publish_production
from orchestration.defs.serving.registry import (
    CURRENT_FILE,
    Lineage,
    ModelRegistry,
    VersionRecord,
    code_version,
    publish_served,
    source_fingerprint,
)
from orchestration.defs.trust.store import with_trust
from training.export import read_manifest
from training.index.faiss_index import META_FILE as INDEX_META_FILE
from training.retrieval import SERVED_USER_EMBEDDINGS_FILE, RetrievalArtifacts, embed_users

GROUP = "serving"
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
        with_trust(paths, read_table(paths, "events")),  # segment lists count trust-weighted events
        read_table(paths, "items"),
        read_table(paths, "users"),
        latest,
        platform.settings.funnel().fallbacks,
    )
    area = staging(paths)
    area.fallbacks.write_text(json.dumps(lists))
    read_table(paths, "items", CATALOGUE_COLUMNS).to_parquet(area.catalogue, index=False)
    served_history(read_table(paths, "events")).to_parquet(area.history, index=False)
    return dg.MaterializeResult(
        metadata={
            "popular": len(lists["popular"]),
            "segments": len(lists["segments"]),
            "trending": len(lists["trending"]),
            "top_popular": dg.MetadataValue.json(lists["popular"][:10]),
        }
    )


def served_history(events: pd.DataFrame) -> pd.DataFrame:
    """Every engagement up to the end, one row per (user, item) at its latest time: what serving
    excludes from a user's pages and seeds the item-to-item sources with, newest first."""
    positives = positive_events(events)[["user_id", "item_id", "timestamp"]]
    latest = positives.groupby(["user_id", "item_id"], sort=False, as_index=False)["timestamp"].max()
    return latest.sort_values(["user_id", "timestamp"], ascending=[True, False], kind="stable")


# What `bentoml containerize reco:<version>` needs for a GPU image: a CUDA base (the Ranker
# declares a GPU and uses it when the container is given one) and the Python the lock is made for.
# On PyPI the pinned torch for Linux carries its CUDA 12 libraries; the CPU wheel is only what this
# repository's own install picks from its local index.
BENTO_DOCKER = {"distro": "debian", "python_version": "3.11", "cuda_version": "12.8.1"}
DEV_PINS_MARKER = "# --- dev"  # requirements.lock: the pins after it are for tests, not the bento


def _pinned_packages() -> list[str]:
    lines = (REPO_ROOT / "requirements.lock").read_text().split(DEV_PINS_MARKER, 1)[0].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def current_bundle_file(paths: PlatformPaths) -> Path:
    """The served bundle (``publish_served``): rewritten on every promotion and rollback."""
    return paths.artifacts / CURRENT_FILE


def registry_for(settings: PlatformSettings) -> ModelRegistry:
    return ModelRegistry(settings.paths.home, keep=load_promotion_config().registry.keep_versions)


def _index_summary(index_dir: Path) -> dict[str, object]:
    meta = json.loads((index_dir / INDEX_META_FILE).read_text())
    size = len(meta["ids"]) - len(meta.get("removed", []))
    return {"kind": meta["kind"], "size": size, "config": meta["config"]}


def refresh_user_vectors(retrieval_dir: Path, users: pd.DataFrame, events: pd.DataFrame) -> int:
    """Re-embed every user with the trained user tower and *all* events, for serving only.

    The model, the ranker's training set and the offline evaluation use vectors as of the cut
    (``user_embeddings.npy``, left untouched so that re-running any of them cannot see the label
    window); serving should start from everything up to now, so yesterday's engagement already
    shapes today's retrieval (the recent-items bag). Same model, ids and order, a separate file
    (``served_user_embeddings.npy``) the bundle prefers. Returns the users re-embedded.
    """
    artifacts = RetrievalArtifacts.load(retrieval_dir)
    profiles = users.drop_duplicates("user_id", keep="last").set_index("user_id")
    frame = profiles.reindex(artifacts.user_ids).rename_axis("user_id").reset_index()
    vectors = embed_users(artifacts, frame, events)
    np.save(retrieval_dir / SERVED_USER_EMBEDDINGS_FILE, vectors.astype(np.float32))
    return len(vectors)


def candidate_version(instance: dg.DagsterInstance) -> str:
    """The version ``serving_bundle`` last registered: the candidate the gate and promotion judge."""
    event = instance.get_latest_materialization_event(serving_bundle.key)
    if event is None or event.asset_materialization is None:
        raise dg.Failure("serving_bundle has not been materialized: there is no candidate")
    return str(event.asset_materialization.metadata["model_version"].value)


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[
        item_index,
        content_index,
        co_interaction,
        item_knn,
        ease_neighbours,
        als_factors,
        trending,
        editorial,
        offline_evaluation,
        fallback_lists,
    ],
    freshness_policy=DAILY_LOOP,
)
def staged_bundle(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """The next version complete in the staging area: lineage, and users re-embedded with every
    event. These are the files the bento carries and the files the quality evaluation serves from."""
    settings = platform.settings
    area = staging(settings.paths)
    manifest = read_manifest(area.ranker)
    report = json.loads(area.evaluation.read_text())
    models = report["models"]
    preference = report.get(PREFERENCE_HOLDOUT, {})
    ranking = ranker_verdict(  # every held-out user's ranked-minus-retrieval-order NDCG@10, per set
        models,
        preference.get("models"),
        gains=report.get(RANKER_GAINS),
        preference_gains=preference.get(RANKER_GAINS),
        seed=platform.seed,
    )
    enabled = ranking.detail["served_order"] == SERVED_RANKED
    lineage = {
        "model_version": manifest["model_version"],
        "source": settings.source.kind,
        "time_split": {k: str(v) for k, v in vars(load_split(platform)).items()},
        "feature_service": manifest["feature_service"],
        "ranking": {"enabled": enabled, **ranking.detail},
        # The figures of what this version serves: ranked, or retrieval order when refused.
        "evaluation": models[RANKED if enabled else RETRIEVAL_ORDER],
    }
    (area.root / "bundle.json").write_text(json.dumps(lineage, indent=2))
    refreshed = refresh_user_vectors(
        area.retrieval, read_table(settings.paths, "users"), read_table(settings.paths, "events")
    )
    if not enabled:
        context.log.warning(f"rankers refused, serving retrieval order: {ranking.detail}")
    return dg.MaterializeResult(
        metadata={
            "model_version": manifest["model_version"],
            "users_reembedded": refreshed,
            "ranker_enabled": enabled,
            "ranking": dg.MetadataValue.json(ranking.detail),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[staged_bundle], freshness_policy=DAILY_LOOP)
def serving_bundle(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Register the candidate version (files, lineage, metrics) and build its bento; prune old ones."""
    import bentoml  # serving is the only stage that needs BentoML

    settings = platform.settings
    registry = registry_for(settings)
    area = staging(settings.paths)
    manifest = read_manifest(area.ranker)
    version = manifest["model_version"]
    lineage = json.loads((area.root / "bundle.json").read_text())
    time_split = lineage["time_split"]
    record = VersionRecord(
        version=version,
        model_tag=registry.tag(version),
        bento_tag=f"{BENTO_NAME}:{version}",
        index=_index_summary(area.index),
        manifest=manifest,
        metrics=lineage["evaluation"],
        lineage=Lineage(
            source=settings.source.kind,
            time_split=time_split,
            feature_service=manifest["feature_service"],
            code_version=code_version(),
            created_at=datetime.now(UTC),
        ),
    )
    registry.register(record, area.root)  # a version already registered is kept as it is
    try:
        bento_tag = str(bentoml.bentos.get(record.bento_tag).tag)
    except NotFound:
        bento = bentoml.bentos.build(
            "bento.service:Recommender",
            name=BENTO_NAME,
            version=version,
            labels={"model_version": version},
            include=BENTO_INCLUDE,
            models=[record.model_tag],
            python={"packages": _pinned_packages()},
            docker=BENTO_DOCKER,
            build_ctx=str(REPO_ROOT),
        )
        bento_tag = str(bento.tag)
        context.log.info(f"built bento {bento_tag}")
    archived = registry.prune()
    if archived:
        context.log.info(f"archived {archived} to {registry.archive_dir}")
    return dg.MaterializeResult(
        metadata={
            "bento": bento_tag,
            "model": record.model_tag,
            "model_version": version,
            "code_version": record.lineage.code_version,
            "kept_versions": len(registry.records()),
            "archived": dg.MetadataValue.json(archived),
            "record": dg.MetadataValue.json(record.model_dump(mode="json")),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[serving_bundle], freshness_policy=DAILY_LOOP)
def production_model(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Point production at the candidate; runs only after the blocking promotion gate passed.

    The service reads the pointer at start-up: a promotion takes effect on its next restart.
    """
    registry = registry_for(platform.settings)
    version = candidate_version(context.instance)
    before = registry.production()
    deployment = registry.promote(version, reason="promotion gate passed")
    publish_served(
        platform.settings.paths.artifacts, registry.get(version), source_fingerprint(platform.settings)
    )
    previous = before.current.version if before is not None else None
    context.log.info(f"production: {previous} -> {deployment.version}")
    return dg.MaterializeResult(
        metadata={
            "model_version": deployment.version,
            "model": deployment.model_tag,
            "previous_version": previous or "none",
            "promoted_at": deployment.promoted_at.isoformat(),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[production_model], freshness_policy=DAILY_LOOP)
def published_artifacts(platform: PlatformResource, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
    """The production version, its indices and the feature tables on the artifact store (S3), for
    serving nodes and workers on other machines; a no-op where no bucket is configured (embedded)."""
    if not artifacts.enabled:
        return dg.MaterializeResult(metadata={"target": "none: no bucket configured, RECO_HOME only"})
    published = publish_production(artifacts, registry_for(platform.settings), platform.settings.paths)
    return dg.MaterializeResult(
        metadata={"target": artifacts.url(), **{k: dg.MetadataValue.json(v) for k, v in published.items()}}
    )

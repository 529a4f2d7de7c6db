"""Ranking: point-in-time training set from Feast, then the Lightning ranker with per-surface heads."""

import dagster as dg
import numpy as np
import pandas as pd

from contracts.features import (
    ITEM_STATS_FEATURES,
    ITEM_STATS_VIEW,
    RANKER_INPUTS,
    USER_ACTIVITY_FEATURES,
    USER_ACTIVITY_VIEW,
    USER_STATS_FEATURES,
    USER_STATS_VIEW,
    ranker_inputs,
)
from contracts.funnel_config import HistoryConfig
from contracts.settings import PlatformPaths
from contracts.trust import TRUST_WEIGHT
from orchestration.defs.candidate_generation.assets import (
    als_factors,
    candidates_dir,
    co_interaction,
    content_index,
    cut_candidates_dir,
    ease_neighbours,
    item_index,
    item_knn,
    retrieval_model,
)
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.config import RANKER_POOL
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import evaluation_users, hidden_preferences, without_hidden
from orchestration.defs.common.warehouse import positive_events, read_table
from orchestration.defs.features.assets import load_split, online_features
from orchestration.defs.ranking.fusion_tuning import FusionTuner
from orchestration.defs.ranking.labels import (
    distinct_row_times,
    label_rows,
    session_features_before,
    with_session_columns,
)
from orchestration.defs.ranking.pool import POOL_SESSION_PREFIX, PREFERENCE_SESSION_PREFIX, pool_rows
from orchestration.defs.ranking.replay import label_window_positives, load_replay
from orchestration.defs.trust.store import attach, read_weights
from training.candidates.als import ALS_DIR, ALSFactors
from training.candidates.co_interaction import NEIGHBOURS_FILE, CoInteractionNeighbours
from training.candidates.content import ContentIndex
from training.candidates.cross_scores import CrossSources, latest_first, row_source_scores
from training.candidates.ease import EASE_FILE, EASENeighbours
from training.candidates.item_knn import ITEM_KNN_FILE, ItemKNNNeighbours
from training.config import RankerConfig
from training.data.ranking import LIST_ID, SAMPLE_WEIGHT
from training.export import export_ranker
from training.light_ranker import export_light_ranker
from training.ranking import train_light_ranker, train_ranker_bag
from training.retrieval import RetrievalArtifacts

GROUP = "ranking"
MAX_TRAINING_ROWS = 400_000
TRAINING_SET_FILE = "training_set.parquet"


def retrieval_scores(artifacts: RetrievalArtifacts, users: pd.Series, items: pd.Series) -> np.ndarray:
    """Two-tower affinity of each (user, item) pair; 0 where either side has no embedding."""
    user_pos = pd.Series(range(len(artifacts.user_ids)), index=artifacts.user_ids)
    item_pos = pd.Series(range(len(artifacts.item_ids)), index=artifacts.item_ids)
    u = user_pos.reindex(users.to_numpy()).to_numpy()
    i = item_pos.reindex(items.to_numpy()).to_numpy()
    known = ~(np.isnan(u) | np.isnan(i))
    scores = np.zeros(len(users), dtype=np.float32)
    ue = artifacts.user_embeddings[u[known].astype(int)]
    ie = artifacts.item_embeddings[i[known].astype(int)]
    scores[known] = np.einsum("ij,ij->i", ue, ie)
    return scores


def item_to_item_scores(
    rows: pd.DataFrame, paths: PlatformPaths, kept: pd.DataFrame, cut: pd.Timestamp, windows: HistoryConfig
) -> dict[str, np.ndarray]:
    """Each cross score of each row's item from the history serving would have used then: the
    row's session before it, then the user's engagements before the cut, newest first, from
    ``kept`` (the events without the preference holdout: what the at-cut neighbours saw)."""
    folder, at_cut = candidates_dir(paths), cut_candidates_dir(paths)
    co_path, content_path, knn_path = folder / NEIGHBOURS_FILE, folder / "content", at_cut / ITEM_KNN_FILE
    ease_path = at_cut / EASE_FILE
    sources = CrossSources(
        co_interaction=CoInteractionNeighbours.load(co_path) if co_path.exists() else None,
        content=ContentIndex.load(content_path) if content_path.exists() else None,
        item_knn=ItemKNNNeighbours.load(knn_path) if knn_path.exists() else None,
        als=ALSFactors.load(at_cut / ALS_DIR) if (at_cut / ALS_DIR).exists() else None,
        ease=EASENeighbours.load(ease_path) if ease_path.exists() else None,
    )
    history = latest_first(positive_events(kept[kept["timestamp"] < cut]), windows.history_items)
    users, items = rows["user_id"].tolist(), rows["item_id"].tolist()
    return row_source_scores(sources, users, rows["session_item_ids"].tolist(), items, history, windows)


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[
        online_features,
        retrieval_model,
        item_index,
        co_interaction,
        content_index,
        item_knn,
        ease_neighbours,
        als_factors,
    ],
    freshness_policy=DAILY_LOOP,
)
def training_set(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Label-window rows joined to batch features as of each row's time (Feast historical retrieval).

    Two kinds of rows: logged impressions (clicked or not) and replay rows (``ranking.pool``), the
    funnel's candidates at the cut labelled by later engagement. The offline evaluation's held-out
    users contribute neither. The replayed lists also choose the retrieval order's weights
    (``fusion_tuning``, saved in the bundle as ``retrieval_fusion.json``).
    """
    paths = platform.settings.paths
    split = load_split(platform)
    events = read_table(paths, "events")
    items = read_table(paths, "items")
    window = events[events["timestamp"] >= split.cut]
    held_out = evaluation_users(window["user_id"].unique())
    window = window[~window["user_id"].isin(held_out)]
    rows = label_rows(window, MAX_TRAINING_ROWS, seed=platform.seed)
    tuner = FusionTuner()  # the retrieval order's weights, chosen on the replayed lists
    replay_rows = _replay_rows(platform, events, split.cut, held_out, tuner)
    kept = without_hidden(events, split.cut)  # what every model fitted at the cut learned from
    liked_rows = _preference_rows(platform, events, kept, split.cut, tuner)
    fusion = tuner.choice()
    fusion.save(staging(paths).root)
    parts = [part for part in (rows, replay_rows, liked_rows) if len(part)]  # no impressions: no rows
    rows = pd.concat(parts or [rows], ignore_index=True)
    rows = rows.sort_values("timestamp", kind="stable").reset_index(drop=True)
    rows[SAMPLE_WEIGHT] = pd.to_numeric(rows.get(SAMPLE_WEIGHT), errors="coerce").fillna(1.0)  # slates: all
    rows[SAMPLE_WEIGHT] *= attach(rows[["user_id"]], read_weights(paths))[TRUST_WEIGHT]  # trust-weighted
    categories = items.set_index("item_id")["category"]
    session = session_features_before(window, rows, categories)
    rows = with_session_columns(rows, session)

    entity_df = rows.assign(timestamp=distinct_row_times(rows["timestamp"])).rename(
        columns={"timestamp": "event_timestamp"}
    )
    refs = [
        *(f"{USER_STATS_VIEW}:{f}" for f in USER_STATS_FEATURES),
        *(f"{USER_ACTIVITY_VIEW}:{f}" for f in USER_ACTIVITY_FEATURES),
        *(f"{ITEM_STATS_VIEW}:{f}" for f in ITEM_STATS_FEATURES),
    ]
    store = platform.feature_store()
    joined = store.get_historical_features(entity_df=entity_df, features=refs).to_df()
    # Rows older than every feature snapshot are dropped by the file store (see the xfail in
    # tests/feature_repo/test_profiles.py); anything more means a join bug.
    lost = len(entity_df) - len(joined)
    joined["retrieval_score"] = retrieval_scores(
        RetrievalArtifacts.load(staging(paths).retrieval), joined["user_id"], joined["item_id"]
    )
    joined = joined.assign(
        **item_to_item_scores(joined, paths, kept, split.cut, platform.settings.funnel().history)
    )
    joined["now_ts"] = pd.to_datetime(joined["event_timestamp"], utc=True).map(pd.Timestamp.timestamp)
    session = joined["session_id"].astype(str)
    joined[LIST_ID] = session + "|" + joined["surface"].astype(str)  # one request, or one session
    matrix = pd.DataFrame(ranker_inputs(joined), columns=list(RANKER_INPUTS))
    liked = session.str.startswith(PREFERENCE_SESSION_PREFIX).to_numpy()
    replayed = session.str.startswith(POOL_SESSION_PREFIX).to_numpy() & ~liked
    joined["origin"] = np.select([liked, replayed], ["preference", "replay"], "impression")
    kept_columns = ["label", "surface", "user_id", "item_id", "origin", LIST_ID, SAMPLE_WEIGHT]
    frame = pd.concat([matrix, joined[kept_columns].reset_index(drop=True)], axis=1)
    frame.to_parquet(paths.features / TRAINING_SET_FILE, index=False)
    missing_user = float(joined["user_clicks_30d"].isna().mean())
    context.log.info(f"training set: {len(frame)} rows, positive rate {frame['label'].mean():.3f}")
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "positive_rate": float(frame["label"].mean()),
            "rows_without_user_history": missing_user,
            "rows_lost_in_join": lost,
            "replay_rows": int(replayed.sum()),
            "preference_rows": int(liked.sum()),
            "preference_rows_requested": len(liked_rows),
            "preference_positive_rate": float(frame["label"][liked].mean()) if liked.any() else 0.0,
            "replay_rows_requested": len(replay_rows),
            "replay_positive_rate": float(frame["label"][replayed].mean()) if replayed.any() else 0.0,
            "held_out_users": len(held_out),
            "label_window_start": str(split.cut),
            "retrieval_fusion": dg.MetadataValue.json(fusion.__dict__),
            "by_surface": dg.MetadataValue.json(frame["surface"].value_counts().to_dict()),
        }
    )


def _replay_rows(
    platform: PlatformResource,
    events: pd.DataFrame,
    cut: pd.Timestamp,
    held_out: set[str],
    tuner: FusionTuner,
) -> pd.DataFrame:
    seen, fresh = label_window_positives(events, cut)
    users = sorted(u for u in set(fresh) - held_out if len(seen.get(u, ())) >= RANKER_POOL.min_history)
    rng = np.random.default_rng(platform.seed)
    if len(users) > RANKER_POOL.max_users:
        users = sorted(rng.choice(users, size=RANKER_POOL.max_users, replace=False).tolist())
    replay = load_replay(platform.settings, cut, events, with_ranker=False)
    devices = replay.profiles["device"] if "device" in replay.profiles else pd.Series(dtype=str)
    candidates = tuner.recording(replay.candidates, fresh)
    return pool_rows(candidates, devices, fresh, users, cut, RANKER_POOL, seed=platform.seed)


def _preference_rows(
    platform: PlatformResource,
    events: pd.DataFrame,
    kept: pd.DataFrame,
    cut: pd.Timestamp,
    tuner: FusionTuner,
) -> pd.DataFrame:
    """Replay rows of the preference holdout: each training user's candidates at the cut, their
    hidden engagements the positives. What teaches the ranker what people like, beside what they
    did next; the evaluation users' hidden pairs are left to the gate."""
    positives = positive_events(events)
    hidden = positives[hidden_preferences(positives, cut)]
    liked = hidden.groupby("user_id")["item_id"].agg(set).to_dict()
    users = sorted(set(liked) - evaluation_users(liked))
    rng = np.random.default_rng(platform.seed + 1)
    if len(users) > RANKER_POOL.max_users:
        users = sorted(rng.choice(users, size=RANKER_POOL.max_users, replace=False).tolist())
    replay = load_replay(platform.settings, cut, kept, with_ranker=False)
    devices = replay.profiles["device"] if "device" in replay.profiles else pd.Series(dtype=str)
    candidates = tuner.recording(replay.candidates, liked)
    rows = pool_rows(candidates, devices, liked, users, cut, RANKER_POOL, seed=platform.seed)
    return rows.assign(session_id=PREFERENCE_SESSION_PREFIX + rows["user_id"].astype(str))


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[training_set], freshness_policy=DAILY_LOOP)
def ranking_model(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Shared-base ranker with a head per surface (a bag of ``RankerConfig.bag_size`` averaged
    seeds), exported to TorchScript with its feature manifest; plus the light first stage."""
    paths = platform.settings.paths
    frame = pd.read_parquet(paths.features / TRAINING_SET_FILE)
    config = RankerConfig()
    result = train_ranker_bag(frame, config, progress=platform.progress)
    light = train_light_ranker(frame, config, progress=platform.progress)
    version = f"v{pd.Timestamp.now(tz='UTC'):%Y%m%d%H%M%S}"
    export_ranker(result.model, staging(paths).ranker, version)
    export_light_ranker(light.model, staging(paths).ranker, version)
    context.log.info(
        f"ranker {version}: val AUC {result.val_auc:.4f} (light stage {light.val_auc:.4f}) "
        f"in {result.train_seconds + light.train_seconds:.1f}s"
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": version,
            "val_auc": float(result.val_auc),
            "light_val_auc": float(light.val_auc),
            "train_seconds": round(result.train_seconds, 2),
            "light_train_seconds": round(light.train_seconds, 2),
            "rows": result.n_rows,
            "bag_size": len(result.member_auc),
            "member_val_auc": dg.MetadataValue.json([round(a, 4) for a in result.member_auc]),
        }
    )

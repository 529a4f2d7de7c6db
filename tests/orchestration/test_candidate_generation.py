"""Candidate-generation assets on a small real home: source artefacts and the scheduled rebuild."""

from __future__ import annotations

from dataclasses import replace

import boto3
import dagster as dg
import numpy as np
import pandas as pd
import pytest

from bento.catalogue.filter_store import FilterStore
from orchestration.definitions import defs
from orchestration.defs.candidate_generation import assets
from orchestration.defs.candidate_generation.rebuild import index_rebuild, live_index_root
from orchestration.defs.candidate_generation.trending_refresh import live_candidates_dir, trending_refresh
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.common.artifacts import staging
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import time_split
from orchestration.defs.common.warehouse import table_path
from orchestration.defs.features.assets import SPLIT_FILE
from orchestration.defs.ingestion.assets import ARCHIVE_DIR
from training.candidates.co_interaction import NEIGHBOURS_FILE, CoInteractionNeighbours
from training.candidates.content import ContentIndex
from training.candidates.editorial import LISTS_FILE, EditorialLists
from training.candidates.trending import TRENDING_FILE, TrendingLists
from training.config import RetrievalConfig
from training.index.faiss_index import ItemIndex
from training.index.publish import current
from training.retrieval import train_retrieval
from training.synthetic import synthetic_world


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> PlatformResource:
    """A home with the warehouse tables and time split the upstream assets would have written."""
    root = tmp_path_factory.mktemp("cg_home")
    platform = PlatformResource(home=str(root), progress=False)
    paths = platform.settings.paths
    world = synthetic_world(n_users=120, n_items=200, n_events=6_000, n_categories=6, seed=1)
    paths.warehouse.mkdir(parents=True)
    for name, frame in (("items", world.items), ("events", world.events), ("users", world.users)):
        frame.to_parquet(table_path(paths, name), index=False)
    time_split(world.events["timestamp"]).save(paths.features / SPLIT_FILE)
    return platform


def test_source_assets_write_loadable_artefacts(home: PlatformResource) -> None:
    selected = [assets.content_index, assets.co_interaction, assets.trending, assets.editorial]
    result = dg.materialize(selected, resources={"platform": home}, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    out = assets.candidates_dir(home.settings.paths)
    items = pd.read_parquet(table_path(home.settings.paths, "items"))

    content = ContentIndex.load(out / "content")
    assert content.size == len(items)
    seed = items["item_id"].iloc[0]
    similar = content.similar([seed], k=10)
    category = items.set_index("item_id")["category"]
    assert len(similar) == 10 and (category[similar] == category[seed]).mean() >= 0.8

    neighbours = CoInteractionNeighbours.load(out / NEIGHBOURS_FILE)
    assert len(neighbours) > 0
    trending = TrendingLists.load(out / TRENDING_FILE)
    assert set(trending.overall) <= set(items["item_id"])
    editorial = EditorialLists.load(out / LISTS_FILE)
    assert set(editorial.new_overall) <= set(items.loc[items["in_stock"], "item_id"])

    by_asset = {
        m.asset_key.path[-1]: m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    assert by_asset["content_index"]["items"].value == len(items)
    assert by_asset["co_interaction"]["pairs"].value == len(pd.read_parquet(out / NEIGHBOURS_FILE))


def test_rebuild_job_reembeds_the_current_catalogue_and_switches_atomically(
    home: PlatformResource, s3_endpoint: str
) -> None:
    paths = home.settings.paths
    items = pd.read_parquet(table_path(paths, "items"))
    events = pd.read_parquet(table_path(paths, "events"))
    users = pd.read_parquet(table_path(paths, "users"))
    tiny = replace(
        RetrievalConfig(),
        embedding_dim=16,
        hidden_dim=32,
        side_dim=4,
        title_dim=8,
        title_hash_buckets=256,
        max_epochs=1,
        min_steps=1,
        max_steps=3,
    )
    artifacts = train_retrieval(users, items, events, tiny, progress=False)
    artifacts.save(staging(paths).retrieval)

    filters = FilterStore(paths.filter_store)  # what the catalogue API writes between retrains
    first_item = items.iloc[0].to_dict()
    created = first_item | {"item_id": "api-new", "title": f"{first_item['title']} v2", "policy_flag": None}
    filters.upsert(created)
    filters.upsert(items.iloc[1].to_dict() | {"policy_flag": None})
    assert filters.delete(items["item_id"].iloc[1])
    filters.close()

    local_only = ArtifactStoreResource.from_env({})  # embedded profile: no bucket
    first = index_rebuild.execute_in_process(
        resources={"platform": home, "artifacts": local_only}, instance=dg.DagsterInstance.ephemeral()
    )
    assert first.success
    path, pointer = current(live_index_root(paths), "staging")  # type: ignore[misc]
    index = ItemIndex.load(path / "items")
    assert "api-new" in index and items["item_id"].iloc[1] not in index
    assert index.size == len(items) == pointer["items"]
    known = items["item_id"].iloc[5]
    np.testing.assert_allclose(
        index.reconstruct(known), artifacts.item_embeddings[artifacts.item_ids.index(known)], atol=1e-5
    )
    assert "api-new" in ContentIndex.load(path / "content").similar([items["item_id"].iloc[0]], k=5)

    bucket = "reco-live-index"  # production profile: the same build also lands on the artifact store
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    on_s3 = ArtifactStoreResource.from_env(
        {"RECO_ARTIFACTS_BUCKET": bucket, "RECO_S3_ENDPOINT_URL": s3_endpoint}
    )
    second = index_rebuild.execute_in_process(
        resources={"platform": home, "artifacts": on_s3}, instance=dg.DagsterInstance.ephemeral()
    )
    assert second.success
    newer, _ = current(live_index_root(paths), "staging")  # type: ignore[misc]
    assert newer != path and newer.name > path.name and path.exists(), "previous build kept for readers"
    uploaded = on_s3.list_keys("indices/live")
    assert f"indices/live/{newer.name}/items/items.faiss" in uploaded
    assert f"indices/live/{newer.name}/content/items.faiss" in uploaded
    assert not any(path.name in key for key in uploaded), "the embedded-profile run uploaded nothing"
    assert on_s3.get_text("indices/live/CURRENT.json") == (newer.parent / "CURRENT.json").read_text()


def test_rebuild_is_scheduled_every_few_hours() -> None:
    schedule = defs.resolve_schedule_def("index_rebuild_schedule")
    assert schedule.job_name == "index_rebuild"
    hours = schedule.cron_schedule.split()[1]
    assert hours.startswith("*/") and 1 < int(hours[2:]) <= 6


def test_trending_refresh_reads_the_archive_and_replaces_the_live_list(home: PlatformResource) -> None:
    paths = home.settings.paths
    stored = pd.read_parquet(table_path(paths, "events"))
    newest = stored["timestamp"].max()
    first = trending_refresh.execute_in_process(
        resources={"platform": home}, instance=dg.DagsterInstance.ephemeral()
    )
    assert first.success
    before = TrendingLists.load(live_candidates_dir(paths) / TRENDING_FILE)
    assert pd.Timestamp(before.as_of) == newest, "quiet period: anchored at the newest stored event"

    # An hour the archiver wrote after the daily run: a burst of purchases of one quiet item.
    quiet = stored.loc[~stored["item_id"].isin(before.overall), "item_id"].iloc[0]
    burst = pd.DataFrame(
        {
            "event_id": [f"live-{n}" for n in range(10)],
            "item_id": quiet,
            "event_type": "purchase",
            "timestamp": newest + pd.Timedelta(minutes=30),
        }
    )
    hour = (
        paths.warehouse / ARCHIVE_DIR / f"hour={(newest + pd.Timedelta(minutes=30)).strftime('%Y-%m-%dT%H')}"
    )
    hour.mkdir(parents=True, exist_ok=True)
    burst.to_parquet(hour / "part-0.parquet", index=False)
    assert trending_refresh.execute_in_process(resources={"platform": home}).success
    after = TrendingLists.load(live_candidates_dir(paths) / TRENDING_FILE)
    assert after.overall[0] == quiet and pd.Timestamp(after.as_of) > newest
    assert not (live_candidates_dir(paths) / ".next" / TRENDING_FILE).exists(), "published by rename"

"""The loop in the production profile, configured only: Dagster storage on PostgreSQL, Feast online
on Redis (registry in PostgreSQL), artifacts on an S3-compatible server (moto); then a serving node
with an empty model store pulls the published bundle and answers a request from it.

Both halves run as their own processes with the profile's environment, as a deployment would
(``python -m orchestration.materialize``, ``python -m orchestration.registry pull``, ``bentoml
serve``). The quality bench (``evaluation/protocol_evaluation``) is skipped to keep CI short.
Scratch schemas, Redis keys and the bucket are unique to the run and removed afterwards. Skipped
without Redis/PostgreSQL, unless ``RECO_TEST_SERVICES=required`` (CI), where it fails instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import dagster as dg
import httpx
import pandas as pd
import pytest
from serving_process import free_port, serve_command, serving

from contracts.settings import REPO_ROOT

pytestmark = pytest.mark.e2e
POSTGRES = os.environ.get("RECO_TEST_POSTGRES", "postgresql://root@127.0.0.1:5432/test")
REDIS = os.environ.get("RECO_TEST_REDIS", "127.0.0.1:6379,db=0")
LOOP_TIMEOUT_S = 600


@pytest.fixture
def scratch() -> Iterator[str]:
    """A PostgreSQL schema pair and Redis key suffix for this run, dropped and deleted afterwards."""
    import psycopg
    import redis

    name = f"reco_prod_{uuid.uuid4().hex[:10]}"
    host, port = REDIS.split(",")[0].split(":")
    client = redis.Redis(host=host, port=int(port), socket_connect_timeout=2)
    try:
        client.ping()
        with psycopg.connect(POSTGRES, connect_timeout=2, autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {name}_feast")
            db.execute(f"CREATE SCHEMA {name}_dagster")
    except Exception as error:
        if os.environ.get("RECO_TEST_SERVICES") == "required":
            raise
        pytest.skip(f"Redis ({REDIS}) or PostgreSQL ({POSTGRES}) unreachable: {error}")
    yield name
    keys = list(client.scan_iter(match=b"*" + name.encode(), count=1000))
    if keys:
        client.delete(*keys)
    with psycopg.connect(POSTGRES, connect_timeout=2, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {name}_feast CASCADE")
        db.execute(f"DROP SCHEMA {name}_dagster CASCADE")


def profile_env(scratch: str, s3_endpoint: str, bucket: str, home: Path) -> dict[str, str]:
    """What an operator sets for the production profile (docs/operations.md), on scratch names."""
    feast_pg = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
    dagster_pg = POSTGRES.replace("postgresql://", "postgresql+psycopg2://", 1)
    return {
        **os.environ,
        "RECO_HOME": str(home),
        "BENTOML_HOME": str(home / "bentoml"),
        "DAGSTER_HOME": str(home / "dagster"),
        "RECO_WORLD_SIZE": "tiny",
        "RECO_FEAST_CONFIG": "feature_store.prod.yaml",
        "RECO_FEAST_PROJECT": scratch,
        "RECO_REDIS_URL": REDIS,
        "RECO_REGISTRY_URL": f"{feast_pg}?options=-csearch_path%3D{scratch}_feast",
        "RECO_DAGSTER_PG_URL": f"{dagster_pg}?options=-csearch_path%3D{scratch}_dagster",
        "RECO_ARTIFACTS_BUCKET": bucket,
        "RECO_S3_ENDPOINT_URL": s3_endpoint,
    }


def run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w") as out:
        done = subprocess.run(
            command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=LOOP_TIMEOUT_S
        )
    assert done.returncode == 0, f"{' '.join(command[1:4])} failed:\n{log.read_text()[-3000:]}"


def test_loop_in_the_production_profile_serves_from_the_published_bundle(
    scratch: str,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wide_budget_funnel: Path,
) -> None:
    bucket = scratch.replace("_", "-")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    loop_home = tmp_path / "loop"
    (loop_home / "dagster").mkdir(parents=True)
    (loop_home / "dagster" / "dagster.yaml").write_text((REPO_ROOT / "dagster.prod.yaml").read_text())
    env = profile_env(scratch, s3_endpoint, bucket, loop_home)
    skip = ["--skip", "evaluation/protocol_evaluation"]
    run([sys.executable, "-m", "orchestration.materialize", "--force", *skip], env, tmp_path / "loop.log")

    monkeypatch.setenv("RECO_DAGSTER_PG_URL", env["RECO_DAGSTER_PG_URL"])  # dagster.prod.yaml reads it
    with dg.DagsterInstance.from_config(str(loop_home / "dagster")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        [record] = instance.get_run_records(dg.RunsFilter(job_name="full_loop"))
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        published = instance.get_latest_materialization_event(dg.AssetKey(["serving", "published_artifacts"]))
    assert published is not None and published.asset_materialization is not None
    version = published.asset_materialization.metadata["version"].value
    stored = {obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket, Prefix="reco/")["Contents"]}
    assert {
        f"reco/bundles/{version}.bentomodel",
        f"reco/indices/{version}/items/items.faiss",
        f"reco/indices/{version}/content/items.faiss",
        "reco/features/user_stats.parquet",
        "reco/features/item_stats.parquet",
        "reco/registry/production.json",
    } <= stored

    node = tmp_path / "node"  # a serving node: nothing local but the checkout and the profile
    node_env = profile_env(scratch, s3_endpoint, bucket, node)
    node_env["RECO_FUNNEL_CONFIG"] = str(wide_budget_funnel)
    run([sys.executable, "-m", "orchestration.registry", "pull"], node_env, tmp_path / "pull.log")
    assert f"reco_bundle:{version}" in (tmp_path / "pull.log").read_text()
    log = (tmp_path / "serve.log").open("w")
    with serving(serve_command(free_port()), node_env, log, cwd=REPO_ROOT) as (url, _):
        pulled = node / "bentoml" / "models" / "reco_bundle" / str(version)  # imported from S3
        user = str(pd.read_parquet(pulled / "history.parquet")["user_id"].iloc[0])  # features in Redis
        mint = [sys.executable, "-m", "bento.auth.keys", "create", "--name", "node", "--role", "client"]
        made = subprocess.run([*mint, "--json"], env=node_env, capture_output=True, check=True, timeout=60)
        headers = {"authorization": f"Bearer {json.loads(made.stdout)['key']}"}
        request = {"user_id": user, "page_size": 5}
        reply = httpx.post(f"{url}/recommend", json=request, headers=headers, timeout=60)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["metadata"]["model_version"] == version
        assert len(body["items"]) == 5
        assert body["metadata"]["fallback_level"] == 0, body["metadata"]  # online features read
        assert body["metadata"]["fallback_reason"] is None

"""The artifact store through dagster-aws's S3Resource, against moto's S3 server (an S3 stand-in)."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest

from orchestration.defs.common.artifact_store import ArtifactStoreResource


def test_files_and_trees_round_trip_under_the_prefix(s3_endpoint: str, tmp_path: Path) -> None:
    bucket = f"reco-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    store = ArtifactStoreResource.from_env(
        {
            "RECO_ARTIFACTS_BUCKET": bucket,
            "RECO_ARTIFACTS_PREFIX": "env/a",
            "RECO_S3_ENDPOINT_URL": s3_endpoint,
        }
    )
    assert store.enabled and store.s3.endpoint_url == s3_endpoint
    tree = tmp_path / "index"
    (tree / "sub").mkdir(parents=True)
    (tree / "items.faiss").write_bytes(b"\x00\x01" * 1000)
    (tree / "sub" / "meta.json").write_text("{}")
    assert store.put_tree(tree, "indices/v1") == 2
    assert (
        store.put_text("pointer", "registry/production.json")
        == f"s3://{bucket}/env/a/registry/production.json"
    )
    assert store.list_keys("indices") == ["indices/v1/items.faiss", "indices/v1/sub/meta.json"]
    listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"]
    assert all(obj["Key"].startswith("env/a/") for obj in listed), "everything under the prefix"
    back = store.get_file("indices/v1/items.faiss", tmp_path / "back" / "items.faiss")
    assert back.read_bytes() == (tree / "items.faiss").read_bytes()
    assert store.get_text("registry/production.json") == "pointer"
    assert store.get_text("registry/missing.json") is None


def test_no_bucket_means_no_store() -> None:
    store = ArtifactStoreResource.from_env({})
    assert not store.enabled
    with pytest.raises(RuntimeError, match="RECO_ARTIFACTS_BUCKET"):
        store.list_keys()

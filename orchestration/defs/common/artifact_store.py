"""Artifacts beyond this machine: an S3 bucket through dagster-aws's ``S3Resource``.

The production profile sets a bucket (``RECO_ARTIFACTS_BUCKET``) and, for MinIO or any other
S3-compatible store, an endpoint (``RECO_S3_ENDPOINT_URL``); credentials come from the usual AWS
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role). Without a
bucket (the embedded profile) every artifact stays under ``RECO_HOME`` and publishing is a no-op:
the same code, configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource

BUCKET_ENV = "RECO_ARTIFACTS_BUCKET"
PREFIX_ENV = "RECO_ARTIFACTS_PREFIX"
ENDPOINT_ENV = "RECO_S3_ENDPOINT_URL"
REGION_ENVS = ("AWS_REGION", "AWS_DEFAULT_REGION")


class ArtifactStoreResource(dg.ConfigurableResource):
    """Bundles, indices and feature Parquet under ``s3://<bucket>/<prefix>/``; empty bucket: none."""

    s3: S3Resource
    bucket: str = ""
    prefix: str = "reco"

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _key(self, key: str) -> str:
        return "/".join(part.strip("/") for part in (self.prefix, key) if part.strip("/"))

    def _client(self) -> Any:
        if not self.enabled:
            raise RuntimeError(f"no artifact bucket configured (set {BUCKET_ENV})")
        return self.s3.get_client()

    def put_file(self, path: Path, key: str) -> str:
        self._client().upload_file(str(path), self.bucket, self._key(key))
        return self.url(key)

    def put_text(self, text: str, key: str) -> str:
        self._client().put_object(Bucket=self.bucket, Key=self._key(key), Body=text.encode())
        return self.url(key)

    def put_tree(self, root: Path, key: str) -> int:
        """Every file under ``root`` to ``key/<relative path>``; returns how many."""
        client, files = self._client(), sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            client.upload_file(str(path), self.bucket, self._key(f"{key}/{path.relative_to(root)}"))
        return len(files)

    def get_file(self, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.part")  # a failed download leaves no half file
        self._client().download_file(self.bucket, self._key(key), str(partial))
        partial.replace(path)
        return path

    def get_text(self, key: str) -> str | None:
        client = self._client()
        try:
            return client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read().decode()
        except client.exceptions.NoSuchKey:
            return None

    def list_keys(self, key: str = "") -> list[str]:
        """Keys under ``key`` (relative to the prefix), sorted."""
        client, base = self._client(), self._key(key)
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base)
        found = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        strip = len(self._key("")) + 1 if self.prefix.strip("/") else 0
        return sorted(k[strip:] for k in found)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ArtifactStoreResource:
        env = os.environ if environ is None else environ
        region = next((env[name] for name in REGION_ENVS if env.get(name)), None)
        return cls(
            s3=S3Resource(endpoint_url=env.get(ENDPOINT_ENV) or None, region_name=region),
            bucket=env.get(BUCKET_ENV, ""),
            prefix=env.get(PREFIX_ENV, "reco"),
        )

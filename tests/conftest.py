"""Shared fixtures: one tiny world run through the whole loop per test session.

The platform's home (and BentoML's and Dagster's) point at a temporary directory before any
framework is imported, so tests never touch a developer's `data/`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="reco-test-"))
os.environ["RECO_HOME"] = str(_HOME)
os.environ["BENTOML_HOME"] = str(_HOME / "bentoml")
os.environ["RECO_WORLD_SIZE"] = "tiny"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("FEAST_USAGE", "False")

# Feast sets PROMETHEUS_MULTIPROC_DIR when it is imported; a prometheus_client imported after that
# keeps every metric's values in per-process files shared by all registries, so the tests' fresh
# registries would count each other's samples (in whatever order the test modules import them).
# Imported first, it keeps each registry's values in memory.
import prometheus_client  # noqa: E402, F401
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def platform_home() -> Path:
    return _HOME


@pytest.fixture(scope="session")
def tiny_platform(platform_home: Path):
    """The full loop materialized once on the tiny world; yields (resource, run result)."""
    import dagster as dg

    from orchestration.defs.common.resources import PlatformResource
    from orchestration.materialize import materialize_all

    platform = PlatformResource(
        home=str(platform_home), source_kind="demo", world_size="tiny", seed=7, progress=False
    )
    result = materialize_all(platform, dg.DagsterInstance.ephemeral())
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return platform, result


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """moto's S3 server on a free loopback port: the S3-compatible store the artifact tests use."""
    import socket
    import subprocess
    import sys
    import time

    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")  # moto accepts any credentials
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    client = boto3.client("s3", endpoint_url=url)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                client.list_buckets()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start; see {log.name}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()

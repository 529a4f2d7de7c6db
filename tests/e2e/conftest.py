"""A real `bentoml serve` over the tiny platform's bundle, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

READY_TIMEOUT_S = 240.0
# Low limits so a test can reach them; each test posts from its own X-Client-Id.
TEST_INGESTION_LIMITS = "max_batch_size: 200\nrate_limit: {events_per_second: 10, burst: 250}\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def service_url(tiny_platform) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "bentoml", "serve", "bento.service:Recommender", "--port", str(port)]
    log = open(os.environ["RECO_HOME"] + "/serve.log", "w")  # noqa: SIM115
    limits = Path(os.environ["RECO_HOME"]) / "ingestion.yaml"
    limits.write_text(TEST_INGESTION_LIMITS)
    env = {**os.environ, "RECO_INGESTION_CONFIG": str(limits)}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"bentoml serve exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"service not ready after {READY_TIMEOUT_S}s; see {log.name}")
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

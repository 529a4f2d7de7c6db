"""A real `bentoml serve` over the tiny platform's bundle, on a free loopback port, and API keys
for it made through the real CLI (`python -m bento.auth.keys create`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from serving_process import free_port, keyed, serve_command, serving

from contracts.funnel_config import FUNNEL_FILE

# Low limits so a test can reach them; a test that spends them posts with its own key. The refill
# rates are so slow that no run earns a token back: a limit is a count, never a timing. The user
# burst bounds the reads of any one user_id across the whole e2e suite.
TEST_INGESTION_LIMITS = """max_batch_size: 200
rate_limit: {events_per_second: 10, burst: 250}
read_rate_limit:
  per_client: {per_second: 1000, burst: 2000}
  per_user: {per_second: 0.001, burst: 30}
"""
USER_BURST = 30

MintKey = Callable[..., str]
# The shipped stage budgets, cut to a loaded test machine's pace they would turn some level-0 answers
# these tests assert into level-1 ones: the fallback stack has its own tests (tests/bento).
WIDE_BUDGETS = {
    "deadline_ms": 9_000,
    "features_budget_ms": 2_000,
    "retrieval_budget_ms": 1_500,
    "scoring_budget_ms": 3_000,
}
# Likewise overload control: a loaded machine's queue would shrink or shed the pages these tests
# assert on (bento/shedding.py has its own tests).
NO_SHEDDING = {"capacity": 100_000}


@pytest.fixture(scope="session")
def wide_budget_funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``config/funnel.yaml`` with wide stage budgets and no overload control, for a served node's
    ``RECO_FUNNEL_CONFIG``."""
    tree = yaml.safe_load(FUNNEL_FILE.read_text())
    degradation = tree.get("degradation", {})
    tree["degradation"] = {
        **degradation,
        **WIDE_BUDGETS,
        "load": {**degradation.get("load", {}), **NO_SHEDDING},
    }
    path = tmp_path_factory.mktemp("funnel") / "funnel.yaml"
    path.write_text(yaml.safe_dump(tree, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def service_url(tiny_platform, wide_budget_funnel: Path) -> Iterator[str]:
    command = serve_command(free_port())
    log = open(os.environ["RECO_HOME"] + "/serve.log", "w")  # noqa: SIM115
    limits = Path(os.environ["RECO_HOME"]) / "ingestion.yaml"
    limits.write_text(TEST_INGESTION_LIMITS)
    env = {
        **os.environ,
        "RECO_INGESTION_CONFIG": str(limits),
        "RECO_FUNNEL_CONFIG": str(wide_budget_funnel),
        # One worker: these tests assert one worker's caches and rate buckets; several workers
        # have their own tests (test_workers.py).
        "RECO_RECOMMENDER_WORKERS": "1",
    }
    with serving(command, env, log) as (url, _):
        yield url


@pytest.fixture(scope="session")
def mint_key(tiny_platform) -> MintKey:
    """``mint_key(name, role, *options)``: a new key from the CLI, as an operator would make it."""

    def mint(name: str, role: str, *options: str) -> str:
        command = [sys.executable, "-m", "bento.auth.keys", "create", "--name", name, "--role", role]
        done = subprocess.run([*command, "--json", *options], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["key"])

    return mint


@pytest.fixture(scope="session")
def connect(service_url: str, mint_key: MintKey) -> Iterator[Callable[..., httpx.Client]]:
    """``connect(name, role, *options)``: a client of the service holding a new key of its own (its
    own rate-limit buckets)."""
    opened: list[httpx.Client] = []

    def open_client(name: str, role: str, *options: str) -> httpx.Client:
        opened.append(keyed(service_url, mint_key(name, role, *options)))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture(scope="session")
def api(connect: Callable[..., httpx.Client]) -> httpx.Client:
    """The service as a product client sees it: a `client` key."""
    return connect("e2e-client", "client")


@pytest.fixture(scope="session")
def admin(connect: Callable[..., httpx.Client]) -> httpx.Client:
    """The service as an operator sees it: an `admin` key (catalogue writes, forget)."""
    return connect("e2e-admin", "admin")

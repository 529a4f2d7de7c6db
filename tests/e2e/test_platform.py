"""`make run`'s platform: daemon, UI and service come up together, answer, and stop together.

The platform runs the way `make run` starts it (`python -m orchestration.platform`) on a copy of
the tiny platform's home (the session's own service keeps the original's event log), with its
own Dagster instance. The test asks the UI's GraphQL endpoint for every asset and its freshness
state, and for the daemon's health, then stops the supervisor with SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest

from contracts.registry import read_production
from contracts.settings import REPO_ROOT
from orchestration.definitions import defs

pytestmark = pytest.mark.e2e
UP_TIMEOUT_S = 300.0
POLL_TIMEOUT_S = 120.0
ASSETS = """{ assetNodes { assetKey { path } freshnessStatusInfo { freshnessStatus } } }"""
DAEMONS = """{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(ui: str, query: str) -> dict:
    reply = httpx.post(f"{ui}/graphql", json={"query": query}, timeout=30)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def _poll(what: str, probe, timeout_s: float = POLL_TIMEOUT_S):
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached after {timeout_s:.0f}s")
        time.sleep(2)


@pytest.fixture
def copied_home(tiny_platform, tmp_path: Path) -> tuple[Path, Path]:
    source = Path(os.environ["RECO_HOME"])
    home = tmp_path / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("event_log", "bentoml", "*.log", "alerts*"))
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    # Its own BENTOML_HOME over the same model store: `bentoml serve` empties
    # $BENTOML_HOME/prometheus_multiproc_dir at start, which would blank the session service's /metrics.
    bentoml_home = tmp_path / "bentoml"
    bentoml_home.mkdir()
    (bentoml_home / "models").symlink_to(Path(os.environ["BENTOML_HOME"]) / "models")
    (bentoml_home / "bentos").symlink_to(Path(os.environ["BENTOML_HOME"]) / "bentos")
    return home, dagster_home


def test_platform_comes_up_reports_freshness_and_daemon_health_and_stops(copied_home) -> None:
    home, dagster_home = copied_home
    batch = dg.AssetKey(["features", "batch_features"])
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(batch))
    service_port, ui_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RECO_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "BENTOML_HOME": str(dagster_home.parent / "bentoml"),
        "RECO_SCHEDULES": "stopped",  # inspect only: no scheduled run writes into the test home
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",
    }
    command = [sys.executable, "-m", "orchestration.platform", "--service-port", str(service_port)]
    command += ["--ui-port", str(ui_port), "--logs", str(home / "platform-logs")]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    up = threading.Event()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("Platform up"):
                up.set()

    threading.Thread(target=read, daemon=True).start()
    ui = f"http://127.0.0.1:{ui_port}"
    try:
        assert up.wait(UP_TIMEOUT_S), f"platform not up after {UP_TIMEOUT_S:.0f}s:\n{''.join(lines)}"
        text = "".join(lines)
        assert "Sample request:" in text and '"items"' in text  # the service answered the sample
        production = read_production(home)
        assert production is not None and production.current.bento_tag
        assert f"(serving {production.current.bento_tag})" in text, "make run serves the built bento"
        local = json.loads((home / "auth" / "local_keys.json").read_text())
        assert f"-H 'authorization: Bearer {local['client']}'" in text, "the sample shows the local key"
        bare = httpx.post(f"http://127.0.0.1:{service_port}/recommend", json={"user_id": "u1"}, timeout=30)
        assert bare.status_code == 401, "make run serves with keys required"

        expected = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}

        def freshness() -> dict[str, str | None] | None:
            nodes = _graphql(ui, ASSETS)["assetNodes"]
            states = {
                "/".join(n["assetKey"]["path"]): (n["freshnessStatusInfo"] or {}).get("freshnessStatus")
                for n in nodes
            }
            return states if states.get("features/batch_features") == "HEALTHY" else None

        states = _poll("batch_features HEALTHY in the UI", freshness)
        assert set(states) == expected
        assert states["ingestion/source_world"] is None  # no policy: the input
        assert {states[k] for k in expected - {"ingestion/source_world"}} <= {"HEALTHY", "UNKNOWN"}

        def daemons() -> list[dict] | None:
            statuses = _graphql(ui, DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]
            required = [d for d in statuses if d["required"]]
            return required if required and all(d["healthy"] for d in required) else None

        required = {d["daemonType"] for d in _poll("every required daemon healthy", daemons)}
        assert {"SCHEDULER", "SENSOR", "FRESHNESS_DAEMON"} <= required
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, "".join(lines)
    for port in (service_port, ui_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)

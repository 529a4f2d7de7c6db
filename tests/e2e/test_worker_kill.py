"""One of several Recommender workers SIGKILLed under load: every request still gets a full page.

A real `bentoml serve` with two Recommender workers (``RECO_RECOMMENDER_WORKERS``) behind one port;
client threads keep asking for pages while one worker is killed. A request that was on the killed
worker's connection sees a transport error and is retried once, as a load balancer would; every
answer is a non-empty level-0 page within the deadline, and the arbiter brings the worker back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skip(
        reason="not yet run to a pass: with the embedded event log a second Recommender worker "
        "refuses to start (EventLogBusyError, one writer process); this needs the Redis Streams "
        "log backend in its service's environment"
    ),
]
WORKERS, CLIENTS, PAGE = 2, 4, 5
READY_TIMEOUT_S = 600.0  # three processes load the bundle on a machine that may be busy
AFTER_KILL_S = 8.0  # load kept up after the kill, while the arbiter restarts the worker
# Unlimited reads (the limits have their own tests) and no in-process session updater: the session
# service of the other e2e tests shares this home and runs the log's one consumer.
INGESTION = {
    "max_batch_size": 200,
    "rate_limit": {"events_per_second": 10, "burst": 250},
    "read_rate_limit": {
        "per_client": {"per_second": 100_000, "burst": 100_000},
        "per_user": {"per_second": 100_000, "burst": 100_000},
    },
    "session_updater": {"mode": "external"},
}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recommender_workers(serve: psutil.Process) -> list[psutil.Process]:
    """The serve process's Recommender worker processes (``--service-name Recommender``)."""
    found = []
    for child in serve.children(recursive=True):
        try:
            args = child.cmdline()
        except psutil.Error:
            continue
        if "--service-name" in args and args[args.index("--service-name") + 1] == "Recommender":
            found.append(child)
    return found


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.fixture
def two_workers(
    tiny_platform, wide_budget_funnel: Path, tmp_path: Path
) -> Iterator[tuple[str, psutil.Process]]:
    port = _free_port()
    limits = tmp_path / "ingestion.yaml"
    limits.write_text(yaml.safe_dump(INGESTION))
    env = {
        **os.environ,
        "RECO_RECOMMENDER_WORKERS": str(WORKERS),
        "RECO_INGESTION_CONFIG": str(limits),
        "RECO_FUNNEL_CONFIG": str(wide_budget_funnel),
    }
    command = [sys.executable, "-m", "bentoml", "serve", "bento.service:Recommender", "--port", str(port)]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, READY_TIMEOUT_S, "the two-worker service never became ready")
        serve = psutil.Process(process.pid)
        wait_for(lambda: len(recommender_workers(serve)) == WORKERS, 60, "workers not started")
        yield url, serve
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_one_worker_sigkilled_under_load_every_request_gets_a_page(
    two_workers, mint_key, wide_budget_funnel: Path
) -> None:
    url, serve = two_workers
    headers = {"authorization": f"Bearer {mint_key('worker-kill', 'client')}"}
    deadline_ms = float(yaml.safe_load(wide_budget_funnel.read_text())["degradation"]["deadline_ms"])
    answers: list[tuple[int, dict]] = []
    retries: list[str] = []
    stop, lock = threading.Event(), threading.Lock()

    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            ask_until_stopped(n)
        except BaseException as error:  # a second failure in a row: the test fails below
            errors.append(error)

    def ask_until_stopped(n: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            i = 0
            while not stop.is_set():
                request = {"user_id": f"kill-user-{n}-{i % 7}", "page_size": PAGE}
                try:
                    reply = http.post("/recommend", json=request)
                except httpx.TransportError as error:  # on the killed worker's connection
                    with lock:
                        retries.append(type(error).__name__)
                    reply = http.post("/recommend", json=request)
                with lock:
                    answers.append((reply.status_code, reply.json()))
                i += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(answers) >= 2 * CLIENTS, 120, "no load before the kill")
    victim = recommender_workers(serve)[0]
    os.kill(victim.pid, signal.SIGKILL)
    before_kill = len(answers)
    time.sleep(AFTER_KILL_S)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(answers) > before_kill, "the surviving worker kept answering"
    assert len(retries) <= CLIENTS, retries  # only requests on the killed worker's connections
    for status, body in answers:
        assert status == 200, body
        meta = body["metadata"]
        assert len(body["items"]) == PAGE, meta
        assert meta["fallback_level"] == 0, meta
        assert meta["latency_ms"] < deadline_ms, meta
    wait_for(
        lambda: len([p for p in recommender_workers(serve) if p.pid != victim.pid]) == WORKERS,
        READY_TIMEOUT_S,
        "the killed worker was not restarted",
    )

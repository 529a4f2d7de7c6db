"""Several Recommender workers behind one port, on the embedded profile: a click or a forget taken
by one worker reaches the others' pages, and a worker SIGKILLed under load leaves the others
answering while BentoML's arbiter starts a new one."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from serving_process import eventually, free_port, keyed, serve_command, serving

pytestmark = pytest.mark.e2e
WORKERS = 2
WARM_REQUESTS = 10  # the same page asked this often lands on both workers (all on one: 2 in 1,024)
SYNC_WAIT_S = 1.5  # the workers follow each other every 0.25 s


@pytest.fixture(scope="module")
def workers(tiny_platform, wide_budget_funnel: Path) -> Iterator[tuple[str, psutil.Process]]:
    log = open(os.environ["RECO_HOME"] + "/serve-workers.log", "w")  # noqa: SIM115
    env = {
        **os.environ,
        "RECO_FUNNEL_CONFIG": str(wide_budget_funnel),
        "RECO_RECOMMENDER_WORKERS": str(WORKERS),
    }
    env.pop("RECO_INGESTION_CONFIG", None)
    with serving(serve_command(free_port()), env, log) as (url, process):
        yield url, psutil.Process(process.pid)


@pytest.fixture(scope="module")
def clients(workers, mint_key: Callable[..., str]) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    url, _ = workers
    client, admin = (
        keyed(url, mint_key("workers-client", "client")),
        keyed(url, mint_key("workers-admin", "admin")),
    )
    yield client, admin
    client.close()
    admin.close()


def recommender_workers(serve: psutil.Process) -> list[psutil.Process]:
    """The live Recommender worker processes under ``serve`` (a killed one is a zombie until reaped)."""
    live = []
    for child in serve.children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            if child.status() != psutil.STATUS_ZOMBIE and "--service-name Recommender" in command:
                live.append(child)
        except psutil.Error:  # gone, or a zombie, between the listing and the look
            continue
    return live


def history_users(count: int) -> list[str]:
    events = pd.read_parquet(
        Path(os.environ["RECO_HOME"]) / "warehouse" / "events.parquet", columns=["user_id"]
    )
    return [str(u) for u in events["user_id"].value_counts().index[5 : 5 + count]]


def pages(client: httpx.Client, user: str, times: int) -> list[dict]:
    replies = [client.post("/recommend", json={"user_id": user, "page_size": 6}) for _ in range(times)]
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies if r.status_code != 200]
    return [r.json() for r in replies]


def test_both_workers_serve(workers) -> None:
    _, serve = workers
    assert len(recommender_workers(serve)) == WORKERS


def test_a_click_taken_by_one_worker_reaches_every_workers_pages(clients) -> None:
    client, _ = clients
    user = history_users(1)[0]
    warm = pages(client, user, WARM_REQUESTS)  # each worker caches this page
    assert any(page["metadata"]["cache_hit"] for page in warm)
    clicked = warm[0]["items"][0]["item_id"]
    event = {"user_id": user, "item_id": clicked, "event_type": "click"}
    assert client.post("/events", json=event).status_code == 200
    time.sleep(SYNC_WAIT_S)
    after = pages(client, user, WARM_REQUESTS)
    shown = [
        page["metadata"]["cache_hit"] for page in after if clicked in [i["item_id"] for i in page["items"]]
    ]
    assert not shown, f"the clicked item came back on {len(shown)} pages (cache hits: {shown})"


def test_a_forget_taken_by_one_worker_reaches_every_workers_memory(clients) -> None:
    client, admin = clients
    user = history_users(2)[1]
    warm = pages(client, user, WARM_REQUESTS)
    assert any(page["metadata"]["cache_hit"] for page in warm)
    reply = admin.post("/users/forget", json={"user_id": user})
    assert reply.status_code == 200, reply.text
    time.sleep(SYNC_WAIT_S)
    after = pages(client, user, WARM_REQUESTS)
    personal = [warm[0]["items"] == page["items"] for page in after]
    assert not any(personal), "a worker still served the forgotten user's personalised page"


def test_a_worker_killed_under_load_leaves_the_others_answering(workers, clients) -> None:
    _, serve = workers
    client, _ = clients
    users = history_users(300)  # two requests a user at most: far inside the per-user read limit
    results: list[tuple[float, int | str]] = []  # (when, status code or the error's name)
    stop = threading.Event()

    def load(offset: int) -> None:
        n = offset
        with httpx.Client(base_url=str(client.base_url), headers=client.headers, timeout=10) as own:
            while not stop.is_set():
                body = {"user_id": users[n % len(users)], "page_size": 5}
                try:
                    outcome: int | str = own.post("/recommend", json=body).status_code
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                results.append((time.monotonic(), outcome))
                n += 2
                stop.wait(0.04)  # ~25 requests/s a thread

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    victim = recommender_workers(serve)[0]
    killed_at = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    time.sleep(6.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    before = [outcome for at, outcome in results if at < killed_at]
    settled = [outcome for at, outcome in results if at > killed_at + 2.0]
    failed = [(round(at - killed_at, 2), outcome) for at, outcome in results if outcome != 200]
    assert before and set(before) == {200}
    assert len(settled) >= 20 and set(settled) == {200}, f"failures after the kill: {failed}"
    assert len(failed) <= 2, f"only requests in flight on the killed worker may fail: {failed}"
    assert eventually(lambda: len(recommender_workers(serve)) == WORKERS, 180, poll_s=1.0), (
        "the arbiter restarts it"
    )

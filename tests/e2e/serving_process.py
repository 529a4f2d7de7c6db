"""Starting `bentoml serve` for the end-to-end tests, and clients of it (shared by conftest and the
modules that start a service of their own)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

READY_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keyed(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}, timeout=60)


@contextmanager
def serving(
    command: list[str], env: dict[str, str], log: IO[str], cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``bentoml serve`` running ``command`` until the block ends; its URL once /readyz answers,
    and its process."""
    port = command[command.index("--port") + 1]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
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
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", "bento.service:Recommender", "--port", str(port)]


def eventually(condition: Callable[[], bool], timeout_s: float = 10.0, poll_s: float = 0.02) -> bool:
    """True once ``condition`` holds (the streaming path is asynchronous), False at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll_s)
    return True

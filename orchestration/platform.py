"""`python -m orchestration.platform`: the Dagster daemon, the Dagster UI and the service, together.

What `make run` ends with (after `make build` materialized the loop): one supervisor starts the
three children, waits until the UI and the service answer, prints a sample request, and watches.
The service wants an API key: the first run makes a local client and admin key (kept, mode 0600,
in `$RECO_HOME/auth/local_keys.json`) and the sample request shows the client one.
Where the ingestion config runs the session updater or the archiver ``external`` (the production
profile, ``config/ingestion.prod.yaml``), each is a fourth and fifth child, supervised alike.
Ctrl-C or SIGTERM stops all three; a child that dies is reported by name and exit code, and the
others are stopped too (a platform without its daemon would serve while nobody watches it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bento.auth.keys import ensure_local_keys
from bento.ingestion.settings import IngestionConfig, load_ingestion_config
from contracts.registry import read_production
from contracts.settings import REPO_ROOT, load_settings

READY_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 30.0
BIN = Path(sys.executable).parent


@dataclass
class Child:
    name: str
    command: list[str]
    ready_url: str | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, env: dict[str, str], log_dir: Path | None) -> None:
        out = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            out = open(log_dir / f"{self.name.replace(' ', '_')}.log", "w")  # noqa: SIM115
        # Own process group: a stop reaches the child's own workers (bentoml, the code server).
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


WORKING_TREE_SERVICE = "bento.service:Recommender"


def service_target(home: Path) -> str:
    """What `bentoml serve` runs: the production version's built bento (its code, config and
    bundle, as built, measured and promoted), or the working tree before a first promotion or when
    that bento is gone from the store."""
    pointer = read_production(home)
    tag = pointer.current.bento_tag if pointer is not None else None
    if tag is None:
        return WORKING_TREE_SERVICE
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        bentoml.bentos.get(tag)
    except NotFound:
        return WORKING_TREE_SERVICE
    return tag


def children(
    service_port: int, ui_port: int, ingestion: IngestionConfig | None = None, target: str | None = None
) -> list[Child]:
    """The platform's processes; ``target`` is what the service serves (``service_target``)."""
    workspace = str(REPO_ROOT / "workspace.yaml")
    ingestion = ingestion or load_ingestion_config()
    target = target or service_target(load_settings().paths.home)
    consumers = []
    if ingestion.session_updater.mode == "external":
        consumers.append(Child("session updater", [sys.executable, "-m", "bento.ingestion.session_updater"]))
    if ingestion.archiver.mode == "external":
        consumers.append(Child("archiver", [sys.executable, "-m", "orchestration.archiver"]))
    return [
        *consumers,
        Child("dagster daemon", [str(BIN / "dagster-daemon"), "run", "-w", workspace]),
        Child(
            "dagster ui",
            [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(ui_port)],
            ready_url=f"http://127.0.0.1:{ui_port}/server_info",
        ),
        Child(
            "service",
            [
                sys.executable,
                "-m",
                "bentoml",
                "serve",
                target,
                "--port",
                str(service_port),
            ],
            ready_url=f"http://127.0.0.1:{service_port}/readyz",
        ),
    ]


class ChildDied(RuntimeError):
    pass


def wait_ready(group: list[Child], timeout_s: float = READY_TIMEOUT_S) -> None:
    pending = [c for c in group if c.ready_url]
    deadline = time.monotonic() + timeout_s
    while pending:
        check_alive(group)
        for child in list(pending):
            try:
                if httpx.get(child.ready_url, timeout=2).status_code == 200:  # type: ignore[arg-type]
                    pending.remove(child)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise ChildDied(f"not ready after {timeout_s:.0f}s: {', '.join(c.name for c in pending)}")
        time.sleep(1)


def check_alive(group: list[Child]) -> None:
    for child in group:
        if (code := child.exited()) is not None:
            raise ChildDied(f"{child.name} exited with code {code}")


def sample(service_port: int, client_key: str) -> str:
    """The README's sample request and its answer, for a user with a typical history."""
    import bentoml
    import pandas as pd

    base = f"http://127.0.0.1:{service_port}"
    counts = pd.read_parquet(Path(bentoml.models.get("reco_bundle:latest").path) / "history.parquet")
    users = counts["user_id"].value_counts()
    body = {"user_id": str(users.index[len(users) // 2]), "surface": "home_feed", "page_size": 5}
    auth = {"authorization": f"Bearer {client_key}"}
    reply = httpx.post(f"{base}/recommend", json=body, headers=auth, timeout=30).json()
    return (
        f"\nSample request:\n  curl -s -X POST {base}/recommend -H 'content-type: application/json' "
        f"-H 'authorization: Bearer {client_key}' -d '{json.dumps(body)}'\n{json.dumps(reply, indent=2)}\n"
    )


class _Stop(Exception):
    pass


def _raise_stop(*_: object) -> None:
    raise _Stop


def supervise(group: list[Child], env: dict[str, str], logs: Path | None, when_up: Callable[[], None]) -> int:
    """Start the children, call ``when_up`` once all answer, then watch until a stop or a death."""
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        for child in group:
            child.start(env, logs)
        wait_ready(group)
        when_up()
        while True:
            check_alive(group)
            time.sleep(0.5)
    except ChildDied as died:
        print(f"platform: {died}; stopping the others", file=sys.stderr, flush=True)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("platform: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for child in reversed(group):
            child.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-port", type=int, default=3000)
    parser.add_argument("--ui-port", type=int, default=3070)
    parser.add_argument("--no-sample", action="store_true", help="skip the sample request")
    parser.add_argument("--logs", help="write each child's output to DIR/<child>.log instead of the terminal")
    args = parser.parse_args(argv)
    paths = load_settings().paths
    home = paths.home
    keys = ensure_local_keys(paths)
    env = {**os.environ, "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(home / "dagster"))}

    def when_up() -> None:
        if not args.no_sample:
            print(sample(args.service_port, keys["client"]), flush=True)
        print(
            f"Platform up (home {home}):\n"
            f"  service    http://127.0.0.1:{args.service_port} (serving {target})\n"
            f"  Dagster UI http://127.0.0.1:{args.ui_port}\n"
            "  daemon     schedules, sensors (alerts: config/alerts.yaml), freshness\n"
            f"  API keys   client and admin in {paths.local_keys}; more: python -m bento.auth.keys\n"
            + "".join(f"  {c.name:<10} its own process (config/ingestion: external)\n" for c in extra)
            + "Ctrl-C stops them all.",
            flush=True,
        )

    target = service_target(home)
    group = children(args.service_port, args.ui_port, target=target)
    extra = [c for c in group if c.name in ("session updater", "archiver")]
    return supervise(group, env, Path(args.logs) if args.logs else None, when_up)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bento.demo`: start `bentoml serve`, wait until ready, show a sample request, keep serving.

What `make run` ends with. Ctrl-C stops the service.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd

from contracts.settings import load_settings

READY_TIMEOUT_S = 180.0


def sample_user(bundle_root: Path) -> str:
    """A user with a typical amount of history, so the sample shows personalised results."""
    counts = pd.read_parquet(bundle_root / "history.parquet")["user_id"].value_counts()
    return str(counts.index[len(counts) // 2])


def wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bentoml serve exited with code {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"service not ready after {READY_TIMEOUT_S:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    base = f"http://127.0.0.1:{args.port}"
    import bentoml

    root = bentoml.models.get("reco_bundle:latest").path
    user = sample_user(Path(root))
    command = [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "bento.service:Recommender",
        "--port",
        str(args.port),
    ]
    process = subprocess.Popen(command)
    try:
        wait_ready(base, process)
        body = {"user_id": user, "surface": "home_feed", "page_size": 5}
        reply = httpx.post(f"{base}/recommend", json=body, timeout=30).json()
        print("\nSample request:")
        print(
            f"  curl -s -X POST {base}/recommend -H 'content-type: application/json' -d '{json.dumps(body)}'"
        )
        print(json.dumps(reply, indent=2))
        print(f"\nServing on {base} (model {reply['metadata']['model_version']}). Ctrl-C stops it.")
        print(f"Home: {load_settings().paths.home}; Dagster UI: `make ui` (http://127.0.0.1:3070)")
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return 0
    finally:
        if process.poll() is None:
            process.terminate()


if __name__ == "__main__":
    sys.exit(main())

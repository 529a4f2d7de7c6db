"""The key store and its CLI: keys are kept only as hashes, checked in full, revoked at once; the
local keys `make run` prints are made once and reused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bento.auth.keys import ensure_local_keys
from bento.auth.store import KeyRejected, KeyStore
from contracts.settings import REPO_ROOT, PlatformPaths


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bento.auth.keys", "--home", str(home), *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


def test_a_created_key_opens_and_its_secret_is_not_stored(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key, token = store.create("web", "client")
    assert store.authenticate(token) == key
    assert token.startswith(f"reco_{key.key_id}_")
    secret = token.split("_", 2)[2]
    store.close()
    raw = sqlite3.connect(tmp_path / "keys.db").execute("SELECT * FROM api_keys").fetchall()
    assert raw and not any(secret in str(value) for row in raw for value in row), "only a digest is kept"


@pytest.mark.parametrize(
    ("mangle", "fragment"),
    [
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "not valid"),  # one character of the secret
        (lambda t: "reco_000000000000_" + t.split("_", 2)[2], "not valid"),  # the secret under another id
        (lambda t: t + "x", "malformed"),
        (lambda t: "", "malformed"),
        (lambda t: "reco_nothex000000_" + t.split("_", 2)[2], "malformed"),
    ],
)
def test_a_wrong_key_is_rejected_with_a_reason(tmp_path: Path, mangle, fragment: str) -> None:
    store = KeyStore(tmp_path / "keys.db")
    _, token = store.create("web", "client")
    with pytest.raises(KeyRejected, match=fragment) as rejected:
        store.authenticate(mangle(token))
    assert token.split("_", 2)[2] not in str(rejected.value), "a rejection never echoes the secret"


def test_revocation_holds_for_another_process_on_its_next_lookup(tmp_path: Path) -> None:
    serving = KeyStore(tmp_path / "auth" / "api_keys.db")  # the service's long-lived connection
    created = json.loads(_cli(tmp_path, "create", "--name", "web", "--role", "client", "--json").stdout)
    assert serving.authenticate(created["key"]).name == "web"
    revoked = _cli(tmp_path, "revoke", created["key_id"])
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(KeyRejected, match="revoked"):
        serving.authenticate(created["key"])
    assert _cli(tmp_path, "revoke", created["key_id"]).returncode == 1, "no active key to revoke twice"


def test_cli_lists_without_secrets_and_refuses_bad_arguments(tmp_path: Path) -> None:
    made = [
        json.loads(_cli(tmp_path, "create", "--name", n, "--role", r, "--json").stdout)
        for n, r in [("web", "client"), ("ops", "admin")]
    ]
    _cli(tmp_path, "revoke", made[0]["key_id"])
    listed = json.loads(_cli(tmp_path, "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["ops"]
    everything = _cli(tmp_path, "list", "--all")
    assert "web" in everything.stdout and "revoked" in everything.stdout
    assert not any(k["key"].split("_", 2)[2] in everything.stdout for k in made)
    assert _cli(tmp_path, "create", "--name", "x", "--role", "root").returncode == 2
    half = _cli(tmp_path, "create", "--name", "x", "--role", "client", "--reads-per-second", "5")
    assert half.returncode == 2 and "read_burst" in half.stderr


def test_local_keys_are_made_once_and_remade_when_revoked(tmp_path: Path) -> None:
    paths = PlatformPaths(home=tmp_path)
    first = ensure_local_keys(paths)
    assert ensure_local_keys(paths) == first, "a restart reuses the keys it printed"
    assert paths.local_keys.stat().st_mode & 0o777 == 0o600
    store = KeyStore(paths.api_keys)
    assert store.authenticate(first["client"]).role == "client"
    assert store.authenticate(first["admin"]).role == "admin"
    store.revoke(store.authenticate(first["client"]).key_id)
    second = ensure_local_keys(paths)
    assert second["admin"] == first["admin"] and second["client"] != first["client"]
    assert store.authenticate(second["client"]).role == "client"

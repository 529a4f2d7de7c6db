"""User ids in logs: a keyed hash, stable under one salt, different under another, and never the id."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bento.privacy.pseudonym import load_salt, user_hash
from contracts.settings import REPO_ROOT


def test_the_hash_is_stable_per_salt_and_names_no_one() -> None:
    one, other = b"salt-one", b"salt-two"
    assert user_hash("alice", one) == user_hash("alice", one)
    assert user_hash("alice", one) != user_hash("alice", other), "without the salt, no dictionary lookup"
    assert user_hash("alice", one) != user_hash("bob", one)
    assert "alice" not in user_hash("alice", one) and len(user_hash("alice", one)) == 18


def test_the_salt_comes_from_the_environment_else_one_file_per_home(tmp_path: Path) -> None:
    assert load_salt({"RECO_LOG_SALT": "from-env", "RECO_HOME": str(tmp_path)}) == b"from-env"
    made = load_salt({"RECO_HOME": str(tmp_path)})
    assert len(made) == 64 and load_salt({"RECO_HOME": str(tmp_path)}) == made, "kept across restarts"
    assert (tmp_path / "auth" / "log_salt").stat().st_mode & 0o777 == 0o600
    assert load_salt({"RECO_HOME": str(tmp_path / "elsewhere")}) != made


def test_an_operator_can_find_a_users_lines(tmp_path: Path) -> None:
    env = {"RECO_HOME": str(tmp_path), "RECO_LOG_SALT": "s", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bento.privacy.pseudonym", "alice"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert out.split() == ["alice", user_hash("alice", b"s")]

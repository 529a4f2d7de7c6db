"""User ids in logs are keyed hashes: a log line shared across teams names no one.

HMAC-SHA256 of the id under a salt, cut to 16 hex digits (64 bits: collisions are negligible for
any user base, and the same user reads the same in every log line, so incidents can still be
followed). The salt is ``$RECO_LOG_SALT`` if set (production: a secret from the environment, the
same on every replica), else a random salt made once under ``$RECO_HOME/auth/log_salt``. Without the
salt a hash cannot be reversed by hashing candidate ids; with it, an operator can find a given
user's lines (``python -m bento.privacy.pseudonym USER_ID``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from functools import cache
from pathlib import Path

from contracts.settings import load_settings

SALT_ENV = "RECO_LOG_SALT"
PREFIX = "u_"


def user_hash(user_id: str, salt: bytes) -> str:
    """The log name of ``user_id`` under ``salt``: ``u_`` and 16 hex digits."""
    digest = hmac.new(salt, user_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:16]


def load_salt(environ: dict[str, str] | None = None) -> bytes:
    """``$RECO_LOG_SALT``, else the home's salt file (created on first use, mode 0600)."""
    env = os.environ if environ is None else environ
    if value := env.get(SALT_ENV):
        return value.encode()
    path = load_settings(dict(env)).paths.log_salt
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(draft, path)  # atomic and exclusive: a reader never sees a half-written salt
        except FileExistsError:  # another worker made it first: use theirs
            pass
        finally:
            draft.unlink()
    return _read_salt(path)


def _read_salt(path: Path) -> bytes:
    return path.read_text().strip().encode()


@cache
def _process_salt() -> bytes:
    return load_salt()


def logged_user(user_id: str | None) -> str | None:
    """What a log line says instead of ``user_id`` (the process's salt, read once)."""
    return None if user_id is None else user_hash(user_id, _process_salt())


if __name__ == "__main__":  # an operator looking a user up in the logs
    for arg in sys.argv[1:]:
        print(arg, logged_user(arg))

"""`python -m bento.auth.keys`: create, list and revoke API keys (the store keeps only hashes).

    python -m bento.auth.keys create --name web --role client   # prints the key once
    python -m bento.auth.keys list [--all]
    python -m bento.auth.keys revoke KEY_ID

`make run` calls `ensure_local_keys` so a laptop has a client and an admin key to try the API with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from bento.auth.roles import ROLES, Role
from bento.auth.store import ApiKey, KeyRejected, KeyStore
from contracts.settings import PlatformPaths, load_settings

HEADER_HINT = "send it as the header 'Authorization: Bearer <key>'"
LOCAL_NAMES: dict[Role, str] = {"client": "local-client", "admin": "local-admin"}


def ensure_local_keys(paths: PlatformPaths) -> dict[Role, str]:
    """The home's local client and admin keys, made (and written to `local_keys.json`, mode 0600)
    when missing, revoked or not in the store; kept as they are otherwise, so a restart reuses them."""
    store = KeyStore(paths.api_keys)
    try:
        known: dict[str, str] = json.loads(paths.local_keys.read_text()) if paths.local_keys.exists() else {}
        keys: dict[Role, str] = {}
        for role in ROLES:
            token = known.get(role, "")
            try:
                if store.authenticate(token).role == role:
                    keys[role] = token
                    continue
            except KeyRejected:
                pass
            keys[role] = store.create(LOCAL_NAMES[role], role)[1]
        if keys != known:
            _write_private(paths.local_keys, json.dumps(keys, indent=2) + "\n")
        return keys
    finally:
        store.close()


def _write_private(path: Path, text: str) -> None:
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    draft.replace(path)


def _row(key: ApiKey) -> str:
    limits = ""
    if key.reads_per_second is not None:
        limits = f"  reads {key.reads_per_second:g}/s burst {key.read_burst:g}"
    state = "active" if key.active else f"revoked {key.revoked_at}"
    return f"{key.key_id}  {key.role:<6}  {key.name:<20}  created {key.created_at}  {state}{limits}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="platform home (default: $RECO_HOME)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make a key and print it once")
    create.add_argument("--name", required=True, help="the client the key is for, e.g. web")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--reads-per-second", type=float, help="own read limit (with --read-burst)")
    create.add_argument("--read-burst", type=float, help="this key's own read bucket size")
    create.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    listing = commands.add_parser("list", help="the keys in the store (never their secrets)")
    listing.add_argument("--all", action="store_true", help="revoked keys too")
    listing.add_argument("--json", action="store_true")
    revoke = commands.add_parser("revoke", help="revoke a key by id: refused from the next request on")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    paths = PlatformPaths(home=args.home.resolve()) if args.home else load_settings().paths
    store = KeyStore(paths.api_keys)
    try:
        if args.command == "create":
            try:
                key, token = store.create(args.name, args.role, args.reads_per_second, args.read_burst)
            except ValueError as error:
                parser.error(str(error))
            if args.json:
                print(json.dumps({**asdict(key), "key": token}))
            else:
                print(f"created {_row(key)}\n{token}\nStore it now (only its hash is kept); {HEADER_HINT}.")
        elif args.command == "list":
            keys = store.keys(include_revoked=args.all)
            if args.json:
                print(json.dumps([asdict(k) for k in keys]))
            else:
                print("\n".join(_row(k) for k in keys) or "no keys")
        elif args.command == "revoke":
            if not store.revoke(args.key_id):
                print(f"no active key {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
        return 0
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())

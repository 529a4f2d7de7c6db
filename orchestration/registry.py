"""`python -m orchestration.registry list | promote <version> | rollback [<version>] | pull [<version>]`.

Operator commands over the model registry. A promotion or rollback moves the production pointer
under ``$RECO_HOME/registry``; the service reads it at start-up, so restart it (`make serve`) for
the change to take effect. ``promote`` is the human override: it skips the offline gate but still
refuses a version whose feature manifest does not match this code. With an artifact bucket
configured (``RECO_ARTIFACTS_BUCKET``), promote and rollback publish the new production version
there too, and ``pull`` brings the published production version onto this machine (a serving node).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from contracts.settings import PlatformSettings, load_settings
from orchestration.defs.common.artifact_store import ArtifactStoreResource
from orchestration.defs.serving.publish import publish_production, pull_production

if TYPE_CHECKING:  # the registry brings the training stack; `pull` (a serving node) needs none of it
    from orchestration.defs.serving.registry import ModelRegistry, VersionRecord

METRICS_SHOWN = ("ndcg@10", "recall@10")


def _row(record: VersionRecord, production: str | None, gate: dict | None) -> str:
    mark = "*" if record.version == production else " "
    gate_state = (
        "-" if gate is None else ("passed" if gate["passed"] else "blocked:" + ",".join(gate["failed_rules"]))
    )
    metrics = " ".join(f"{m}={record.metrics[m]:.4f}" for m in METRICS_SHOWN if m in record.metrics)
    created = record.lineage.created_at.strftime("%Y-%m-%d %H:%M")
    code = record.lineage.code_version[:12]
    return f"{mark} {record.version:<18} {created}  {metrics}  gate={gate_state}  code={code}"


def list_versions(registry: ModelRegistry) -> None:
    pointer = registry.production()
    production = pointer.current.version if pointer is not None else None
    records = registry.records()
    print(f"production: {production or 'none'}   kept: {len(records)} (keep {registry.keep})")
    for record in reversed(records):
        print(_row(record, production, registry.gate_report(record.version)))
    archived = registry.archived()
    if archived:
        print(f"archived ({registry.archive_dir}): {', '.join(archived)}")
    if pointer is not None and pointer.history:
        trail = ", ".join(f"{d.version} ({d.reason})" for d in pointer.history[:5])
        print(f"earlier production: {trail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.registry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="kept versions (newest first), production marked *, archive")
    promote = commands.add_parser("promote", help="point production at a kept or archived version")
    promote.add_argument("version")
    rollback = commands.add_parser("rollback", help="back to the previous production version, or VERSION")
    rollback.add_argument("version", nargs="?")
    pull = commands.add_parser("pull", help="import the published production version (or VERSION) from S3")
    pull.add_argument("version", nargs="?")
    args = parser.parse_args(argv)
    settings = load_settings()
    store = ArtifactStoreResource.from_env()
    if args.command == "pull":
        try:
            tag = pull_production(store, settings.paths.home, args.version)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"pulled {tag} from {store.url()}; production here is now {tag}")
        return 0
    return manage(args, settings, store)


def manage(args: argparse.Namespace, settings: PlatformSettings, store: ArtifactStoreResource) -> int:
    """list, promote and rollback: the registry on this machine (published when a bucket is set)."""
    from orchestration.defs.serving.promotion import load_promotion_config
    from orchestration.defs.serving.registry import (
        ModelRegistry,
        UnknownVersionError,
        publish_served,
        source_fingerprint,
    )
    from training.export import ManifestMismatchError

    registry = ModelRegistry(settings.paths.home, keep=load_promotion_config().registry.keep_versions)
    if args.command == "list":
        list_versions(registry)
        return 0
    try:
        if args.command == "promote":
            deployment = registry.promote(args.version, reason="manual promote")
        else:
            deployment = registry.rollback(args.version)
    except (UnknownVersionError, ManifestMismatchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    publish_served(settings.paths.artifacts, registry.get(deployment.version), source_fingerprint(settings))
    if store.enabled:
        publish_production(store, registry, settings.paths)
        print(f"published {deployment.version} to {store.url()}")
    print(f"production is now {deployment.version} ({deployment.reason}); restart the service to serve it")
    return 0


if __name__ == "__main__":
    sys.exit(main())

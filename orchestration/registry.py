"""`python -m orchestration.registry list | promote <version> | rollback [<version>]`.

Operator commands over the model registry. A promotion or rollback moves the production pointer
under ``$RECO_HOME/registry``; the service reads it at start-up, so restart it (`make serve`) for
the change to take effect. ``promote`` is the human override: it skips the offline gate but still
refuses a version whose feature manifest does not match this code.
"""

import argparse
import sys

from contracts.settings import load_settings
from orchestration.defs.serving.promotion import load_promotion_config
from orchestration.defs.serving.registry import (
    ModelRegistry,
    UnknownVersionError,
    VersionRecord,
    publish_served,
    source_fingerprint,
)
from training.export import ManifestMismatchError

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
    args = parser.parse_args(argv)

    settings = load_settings()
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
    print(f"production is now {deployment.version} ({deployment.reason}); restart the service to serve it")
    return 0


if __name__ == "__main__":
    sys.exit(main())

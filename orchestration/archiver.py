"""`python -m orchestration.archiver`: the event archiver as its own process (production profile).

With ``archiver.mode: external`` in the ingestion config (``config/ingestion.prod.yaml``) this
process drains the event log into hourly Parquet partitions continuously, and the hourly
``archive_events`` job only records its progress (and fails when it lags). Run one per log: two
archivers of one log would race for the same consumer offset. Stops on SIGTERM/SIGINT after the
batch in hand, with its offset committed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bento.ingestion.settings import load_ingestion_config
from contracts.settings import load_settings
from orchestration.defs.ingestion.archive import run_archiver
from orchestration.defs.ingestion.assets import ARCHIVE_DIR

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.archiver", description=__doc__)
    parser.add_argument("--log", help="event log directory or redis:// URL (default: the platform's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    paths = load_settings().paths
    config = load_ingestion_config().archiver
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    root, source = paths.warehouse / ARCHIVE_DIR, args.log or paths.event_log
    log.info("archiver: %s -> %s every %.1f s", source, root, config.poll_interval_s)
    committed = run_archiver(source, root, stop, config.poll_interval_s, config.batch_size)
    log.info("archiver stopped at offset %d", committed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

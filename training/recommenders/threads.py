"""Torch intra-op threads held low for small models on a shared CPU.

The funnel's ranker (a tiny MLP on 32-user batches) and the two-tower source are dominated by
per-op overhead; with two threads on a busy two-core machine each op waits for a descheduled
worker (measured: 5 epochs of the ranker took 54 s on 2 threads against 4.5 s on 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: leave as is), restoring the old count after."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)

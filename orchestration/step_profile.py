"""Each step's wall time and peak RSS while the loop runs in process: what a big file costs, where.

Why: on a real file of real size the question is which asset takes the time and the memory, and
a process-wide peak cannot say. The profiler listens to the run's own events (step start, success,
failure) on the Dagster instance, prints one line as each step finishes, and writes every step to
``artifacts/loop_profile.json`` under ``RECO_HOME``.

The peak is the process's resident-set high-water mark (``VmHWM``) during the step: Linux lets a
process reset it (``/proc/self/clear_refs``), so each step's figure is its own, memory kept from
earlier steps included. Where that reset is unavailable the figure is the peak since the process
started, and the file says so (``peak_scope``). Child processes are not counted.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import dagster as dg

PROFILE_FILE = "loop_profile.json"
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK = "5"  # clear_refs code that resets the peak resident set size (Linux >= 4.0)
_STEP_START = dg.DagsterEventType.STEP_START
_STEP_END = {dg.DagsterEventType.STEP_SUCCESS: "success", dg.DagsterEventType.STEP_FAILURE: "failure"}


def _status_kib(name: str) -> int | None:
    try:
        found = re.search(rf"^{name}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(found[1]) if found else None


def reset_peak() -> bool:
    """Reset this process's resident-set high-water mark; False where the kernel does not allow it."""
    try:
        _CLEAR_REFS.write_text(_RESET_PEAK)
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    """The high-water mark (since the last reset, else since start) in MiB."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return round(kib / 1024, 1)


@dataclass
class StepFigure:
    step: str
    status: str
    seconds: float
    peak_rss_mib: float
    rss_at_start_mib: float


@dataclass
class StepProfiler:
    """Listens to one run's step events; ``out`` receives a line per finished step."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    steps: list[StepFigure] = field(default_factory=list)
    peak_scope: str = "step"
    _started: dict[str, tuple[float, float]] = field(default_factory=dict)
    _peak_before: float = 0.0  # the high-water mark as it stood before each reset
    _clock: Callable[[], float] = time.perf_counter

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            return
        if event.event_type == _STEP_START:
            self._peak_before = max(self._peak_before, peak_rss_mib())
            if not reset_peak():
                self.peak_scope = "process"
            rss = (_status_kib("VmRSS") or 0) / 1024
            self._started[event.step_key] = (self._clock(), round(rss, 1))
        elif event.event_type in _STEP_END and event.step_key in self._started:
            began, rss = self._started.pop(event.step_key)
            figure = StepFigure(
                event.step_key,
                _STEP_END[event.event_type],
                round(self._clock() - began, 2),
                peak_rss_mib(),
                rss,
            )
            self.steps.append(figure)
            print(
                f"[step] {figure.step}: {figure.seconds:.1f} s, peak RSS {figure.peak_rss_mib:.0f} MiB"
                f" ({figure.status})",
                file=self.out,
                flush=True,
            )

    def process_peak_mib(self) -> float:
        """The process's peak so far, across the resets (``ru_maxrss`` follows them on Linux)."""
        return max(self._peak_before, peak_rss_mib())

    def attach(self, instance: dg.DagsterInstance, run_id: str) -> None:
        instance.add_event_listener(run_id, self)

    def document(self, **extra: Any) -> dict[str, Any]:
        total = sum(s.seconds for s in self.steps)
        peak = max((s.peak_rss_mib for s in self.steps), default=0.0)
        return {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "peak_scope": self.peak_scope,
            "steps_seconds": round(total, 2),
            "peak_rss_mib": peak,
            "steps": [asdict(s) for s in self.steps],
            **extra,
        }

    def write(self, artifacts: Path, **extra: Any) -> Path:
        """``artifacts/loop_profile.json``: every step in the order it finished, plus ``extra``."""
        artifacts.mkdir(parents=True, exist_ok=True)
        path = artifacts / PROFILE_FILE
        path.write_text(json.dumps(self.document(**extra), indent=2) + "\n")
        return path

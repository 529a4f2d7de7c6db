"""Schedules start running with the daemon (``make run``), unless ``RECO_SCHEDULES=stopped``.

Dagster's default for a schedule is STOPPED until someone switches it on in the UI; a loop that
must retrain daily cannot depend on that click. ``stopped`` is for an inspection-only platform
(tests bring the platform up without launching runs into a shared home).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import dagster as dg


def schedule_status(environ: dict[str, str] | None = None) -> dg.DefaultScheduleStatus:
    value = (os.environ if environ is None else environ).get("RECO_SCHEDULES", "running")
    if value not in ("running", "stopped"):
        raise ValueError(f"RECO_SCHEDULES must be 'running' or 'stopped', got {value!r}")
    return dg.DefaultScheduleStatus.RUNNING if value == "running" else dg.DefaultScheduleStatus.STOPPED


def started(schedules: Sequence[dg.ScheduleDefinition]) -> list[dg.ScheduleDefinition]:
    """The schedules with the default status above (same name, job, cron and timezone)."""
    status = schedule_status()
    return [
        dg.ScheduleDefinition(
            name=s.name,
            job=s.job,
            cron_schedule=s.cron_schedule,
            execution_timezone=s.execution_timezone,
            description=s.description,
            default_status=status,
        )
        for s in schedules
    ]

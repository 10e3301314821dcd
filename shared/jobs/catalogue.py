"""Every job the scheduler runs. A new job is one `Job(...)` line here (see `registry.py` for the contract)."""

from __future__ import annotations

from shared.jobs.housekeeping import HOUSEKEEPING, run_housekeeping
from shared.jobs.registry import Job, JobRegistry
from shared.jobs.schedules import Daily, Every
from shared.jobs.sweep import run_sweep

JOBS = JobRegistry([
    Job("sweep", Every(1), run_sweep,
        "Re-enqueue inbound messages nobody processed and re-run failed tasks whose cause is gone"),
    Job(HOUSEKEEPING, Daily("03:30"), run_housekeeping,
        "Delete expired tokens, old task records and job runs, and knowledge-base collections left by imports"),
])  # fmt: skip

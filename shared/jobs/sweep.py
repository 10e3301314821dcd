"""The `sweep` job (every minute): the safety net that `clinicbot sweep` was, run by itself.

Inbound messages nobody processed after SWEEP_AFTER_SECONDS get their turn enqueued again
(`shared/conversations/sweep.py`), and failed tasks whose cause is gone are run again (`reruns.py`).
"""

from __future__ import annotations

from typing import Any

from shared.conversations.sweep import sweep_unprocessed
from shared.jobs.registry import JobContext
from shared.jobs.reruns import rerun_failed_tasks


def run_sweep(context: JobContext) -> dict[str, Any]:
    """Re-enqueue unprocessed messages and re-run failed tasks whose cause is gone; the counts of both."""
    settings = context.settings
    unprocessed = sweep_unprocessed(settings.sweep_after_seconds, queue=context.queue)
    reruns = rerun_failed_tasks(context.queue, limit=settings.sweep_rerun_limit, max_reruns=settings.sweep_rerun_max,
                                min_age_seconds=settings.sweep_after_seconds)  # fmt: skip
    return {"unprocessed": vars(unprocessed), "failed_tasks": reruns.as_outcome()}

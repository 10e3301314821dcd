"""Failed tasks whose cause is gone, run again by the sweep: a bounded number a run, a bounded number of times each.

A task in failed_tasks ran out of attempts (or was discarded). Its last error names its cause as well as we can
tell: Redis or WAHA when it says so, otherwise unknown. It is run again when that backend answers now (an unknown
cause: when Postgres and Redis answer and it failed at least SWEEP_AFTER_SECONDS ago), at most
SWEEP_RERUN_LIMIT tasks a run. A discarded task can never succeed and stays for an admin.

The new task's id counts the automatic re-runs: `<id>-rerun-1`, `-rerun-2`, ... up to SWEEP_RERUN_MAX, after
which the task stays for an admin too. The id is the same whichever sweep computes it, so two sweeps at once, or a
sweep that dies after enqueueing, create the task once. An admin's retry (`-retry-<hex>`) starts a new count.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, and_, cast, delete, false, func, not_, or_, select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.health import HealthOut, check_health
from shared.queue import TaskQueue, task_id_for
from shared.tasks.models import FailedTask

log = logging.getLogger("clinicbot.jobs")
_RERUN = re.compile(r"^(?P<base>.+)-rerun-(?P<count>\d+)$")
_failed = FailedTask.__table__
# A cause and how its last error names it.
CAUSES = {"redis": "%redis%", "waha": "%waha%"}


@dataclass(frozen=True)
class RerunResult:
    rerun: int  # enqueued again by this run
    waiting: int  # their cause is still there, too recent, or past this run's bound
    left_for_admin: int  # discarded, or re-run SWEEP_RERUN_MAX times already

    def as_outcome(self) -> dict[str, int]:
        return {"rerun": self.rerun, "waiting": self.waiting, "left_for_admin": self.left_for_admin}


def rerun_count(task_id: str) -> tuple[str, int]:
    """The id a task's automatic re-runs are counted from, and how many there were."""
    found = _RERUN.match(task_id)
    return (found["base"], int(found["count"])) if found else (task_id, 0)


def rerun_task_id(task_id: str) -> str:
    base, count = rerun_count(task_id)
    return task_id_for(f"{base}-rerun-{count + 1}")


def _left_for_admin(max_reruns: int) -> ColumnElement[bool]:
    count = func.coalesce(cast(func.substring(_failed.c.task_id, r"-rerun-([0-9]+)$"), Integer), 0)
    return or_(func.coalesce(_failed.c.last_error, "").like("discarded:%"), count >= max_reruns)


def _cause_gone(health: HealthOut, min_age_seconds: int) -> ColumnElement[bool]:
    error = func.coalesce(_failed.c.last_error, "")
    named = {cause: error.ilike(pattern) for cause, pattern in CAUSES.items()}
    up = {"redis": health.redis.ok, "waha": health.waha.ok}
    gone = [condition for cause, condition in named.items() if up[cause]]
    if health.serving:  # an unknown cause: give it time, and the backends every task needs
        old_enough = _failed.c.failed_at <= func.now() - func.make_interval(0, 0, 0, 0, 0, 0, min_age_seconds)
        gone.append(and_(not_(or_(*named.values())), old_enough))
    return or_(false(), *gone)


def rerun_failed_tasks(queue: TaskQueue, *, limit: int, max_reruns: int, min_age_seconds: int,
                       health: HealthOut | None = None) -> RerunResult:  # fmt: skip
    """Enqueue again, under counted ids, the failed tasks whose cause is gone; remove them from failed_tasks."""
    with session_scope() as session:
        total = session.scalar(select(func.count()).select_from(_failed)) or 0
        left = session.scalar(select(func.count()).select_from(_failed).where(_left_for_admin(max_reruns))) or 0
        if total == left:
            return RerunResult(0, 0, left)
        health = health or check_health()  # only when something may be re-run: it asks Redis and WAHA
        rows = session.scalars(
            select(FailedTask)
            .where(not_(_left_for_admin(max_reruns)), _cause_gone(health, min_age_seconds))
            .order_by(FailedTask.failed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)  # a sweep running at the same time takes the others
        ).all()
        rerun = sum(_rerun(session, queue, row) for row in rows)
    log.info("sweep: %d failed task(s) run again", rerun)
    return RerunResult(rerun, total - left - rerun, left)


def _rerun(session: Session, queue: TaskQueue, row: FailedTask) -> int:
    # Enqueued before the row goes: should this transaction fail, the next sweep computes the same id and the
    # queue refuses it as a duplicate.
    task_id = rerun_task_id(row.task_id)
    queue.enqueue(row.queue, row.target, row.payload, task_id=task_id)
    session.execute(delete(_failed).where(_failed.c.id == row.id))
    log.info("failed task run again", extra={"task_id": task_id, "target": row.target})
    return 1

"""Scheduler tick: the cron target (POST /tasks/scheduler_tick) and the target of the job runs it fans out.

Cloud Scheduler's POST carries no task name: that is a tick, which enqueues one task per due (job, slot) and runs
nothing. The task queue's deliveries carry one: each runs one job for one slot. Both are authenticated as every
task target is (OIDC in production, X-Clinicbot-Task-Secret otherwise).
"""

import functions_framework

from functions.scheduler_tick.handling import handle_tick, job_runner
from shared.jobs.catalogue import JOBS
from shared.queue import TASK_NAME_HEADER
from shared.tasks.target import handle_task

run_scheduled_job = job_runner(JOBS)


@functions_framework.http
def scheduler_tick(request):
    if request.headers.get(TASK_NAME_HEADER):
        return handle_task(request, run_scheduled_job)
    return handle_tick(request, JOBS)

"""A scheduler_tick target with a job of the tests' own, loaded by path like functions/scheduler_tick/main.py.

`slow` hangs on its first attempt (the worker that the kill test kills) and succeeds on any later one. Run as
`python -m tests.integration.scheduler_targets '<task json>'`, it delivers that task once, as the queue would, in
a process of its own: the worker to kill.
"""

import json
import sys
import time

import functions_framework

from functions.scheduler_tick.handling import handle_tick, job_runner
from shared.jobs.registry import Job, JobContext, JobRegistry
from shared.jobs.schedules import Every
from shared.migrate import PROJECT_ROOT
from shared.queue import TASK_NAME_HEADER
from shared.tasks.target import handle_task

HANG_SECONDS = 120


def run_slow(context: JobContext) -> dict:
    if context.attempt == 1:
        print("started", flush=True)
        time.sleep(HANG_SECONDS)
    return {"finished_on_attempt": context.attempt}


TEST_JOBS = JobRegistry([Job("slow", Every(1), run_slow, "Hangs on its first attempt")])


@functions_framework.http
def scheduler_tick(request):
    if request.headers.get(TASK_NAME_HEADER):
        return handle_task(request, job_runner(TEST_JOBS))
    return handle_tick(request, TEST_JOBS)


def delivery_headers(task_id: str, retry_count: int) -> dict[str, str]:
    return {"X-CloudTasks-TaskName": task_id, "X-CloudTasks-QueueName": "clinicbot-tasks-jobs",
            "X-CloudTasks-TaskRetryCount": str(retry_count)}  # fmt: skip


def deliver(task_id: str, body: bytes, retry_count: int):
    app = functions_framework.create_app("scheduler_tick", str(PROJECT_ROOT / "tests/integration/scheduler_targets.py"))
    return app.test_client().post("/tasks/scheduler_tick", data=body, headers=delivery_headers(task_id, retry_count))


if __name__ == "__main__":
    task = json.loads(sys.argv[1])
    answer = deliver(task["task_id"], task["body"].encode(), task["retry_count"])
    print(answer.status_code, flush=True)

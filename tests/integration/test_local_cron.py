"""The local stack's cron: the tick it POSTs is the one Cloud Scheduler sends, and the jobs run from it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import functions_framework
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from local.cron import LocalCron
from shared.db import session_scope
from shared.jobs.models import JobRun, JobRunStatus
from shared.migrate import PROJECT_ROOT
from shared.queue import get_task_queue

SECRET = "local-cron-secret"


@pytest.fixture
def served_tick(backends, settings_env):
    """The scheduler tick on a real port, behind TASK_AUTH_SECRET, and a queue whose deliveries carry it."""
    settings_env(TASK_AUTH_SECRET=SECRET)
    get_task_queue.cache_clear()  # the process's queue was built without the secret
    app = functions_framework.create_app("scheduler_tick", str(PROJECT_ROOT / "functions/scheduler_tick/main.py"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/tasks/scheduler_tick"
    server.shutdown()
    queue = get_task_queue()
    queue.discard_pending()
    queue.close()
    get_task_queue.cache_clear()


def test_the_local_cron_ticks_with_the_minute_and_the_task_secret(served_tick):
    minute = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)

    assert LocalCron(served_tick, SECRET).tick(minute) is True
    assert get_task_queue().join(timeout=30)
    assert LocalCron(served_tick, "a-guess").tick(minute) is False  # refused: 401

    with session_scope() as session:
        ran = {(run.job, run.slot, run.status) for run in session.scalars(select(JobRun))}
    assert ("sweep", minute, JobRunStatus.SUCCEEDED) in ran and len(ran) == 2

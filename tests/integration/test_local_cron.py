"""The local stack's cron: the tick it POSTs is the one Cloud Scheduler sends, and the jobs run from it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import functions_framework
from sqlalchemy import select
from werkzeug.serving import make_server

from local.cron import LocalCron
from shared.db import session_scope
from shared.jobs.models import JobRun, JobRunStatus
from shared.migrate import PROJECT_ROOT
from shared.queue import get_task_queue


def test_the_local_cron_ticks_with_the_minute_and_the_task_secret(backends, settings_env):
    settings_env(TASK_AUTH_SECRET="local-cron-secret")
    app = functions_framework.create_app("scheduler_tick", str(PROJECT_ROOT / "functions/scheduler_tick/main.py"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/tasks/scheduler_tick"
    try:
        minute = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
        assert LocalCron(url, "local-cron-secret").tick(minute) is True
        assert get_task_queue().join(timeout=30)
        assert LocalCron(url, "a-guess").tick(minute) is False  # refused: 401
    finally:
        server.shutdown()
    with session_scope() as session:
        ran = {(run.job, run.slot, run.status) for run in session.scalars(select(JobRun))}
    assert ("sweep", minute, JobRunStatus.SUCCEEDED) in ran and len(ran) == 2

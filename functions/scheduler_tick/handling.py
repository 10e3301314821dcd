"""The tick's request and the job-run task, as HTTP: answers the queue and Cloud Scheduler understand.

A tick answers 200 with what it enqueued, 503 (Retry-After) when Postgres or the queue is down, so that Cloud
Scheduler retries it; the retry names the same slot (X-CloudScheduler-ScheduleTime), hence the same tasks.
A job run answers through `handle_task`: done when the slot ran (now or before), 503 while another runner holds it,
500 when the job failed (the queue retries; the sweep re-runs it once its attempts are spent).
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

from flask import Request
from werkzeug.wrappers import Response

from shared.config import Settings, get_settings
from shared.db import utcnow
from shared.errors import AppError, BadRequest
from shared.http import problem_response
from shared.jobs.registry import JobRegistry
from shared.jobs.runs import Claim, run_job
from shared.jobs.schedules import floor_minute
from shared.jobs.tick import tick
from shared.logging import configure_logging
from shared.queue import TaskQueue, get_task_queue
from shared.routing import SCHEDULER_TICK
from shared.tasks.auth import TokenVerifier, authenticate_task
from shared.tasks.target import DiscardTask, RetryLater, TaskHandler

SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"
BUSY_RETRY_SECONDS = 30
log = logging.getLogger("clinicbot.jobs")
_logging_configured = threading.Event()


class JobFailed(Exception):
    """The job's handler raised; its run is recorded FAILED and the queue tries it again."""


def handle_tick(request: Request, registry: JobRegistry, *, queue: TaskQueue | None = None,
                settings: Settings | None = None, verify_token: TokenVerifier | None = None) -> Response:  # fmt: skip
    """Authenticate the caller, read the slot, enqueue the due jobs' tasks, say what was enqueued."""
    settings = settings or get_settings()
    if not _logging_configured.is_set():  # a task target has no API app to do it (handle_task does it for runs)
        _logging_configured.set()
        configure_logging(settings.log_level, settings.secret_values)
    if request.method != "POST":
        return _problem(405, "Method Not Allowed", "The tick is a POST", "method-not-allowed", request)
    try:
        authenticate_task(request.headers, SCHEDULER_TICK, settings, verify_token)
        slot = tick_slot(request.headers.get(SCHEDULE_TIME_HEADER))
    except AppError as exc:
        log.warning("tick refused: %s", exc.detail, extra={"status": exc.status})
        return _problem(exc.status, exc.title, exc.detail, exc.slug, request, exc.headers)
    try:
        result = tick(slot, registry=registry, queue=queue or get_task_queue())
    except Exception:
        log.exception("tick failed; the scheduler will retry it")
        return _problem(503, "Service Unavailable", "The tick could not enqueue its jobs; retry", "unavailable",
                        request, {"Retry-After": "10"})  # fmt: skip
    body = {"slot": result.slot.isoformat(), "enqueued": result.enqueued, "existing": result.existing,
            "finished": result.finished}  # fmt: skip
    return Response(json.dumps(body), status=200, mimetype="application/json")


def tick_slot(header: str | None) -> datetime:
    """The minute a tick is for: Cloud Scheduler's schedule time when sent (a retry sends the same), else now."""
    if not header:
        return floor_minute(utcnow())
    try:
        when = datetime.fromisoformat(header)
    except ValueError:
        raise BadRequest(f"{SCHEDULE_TIME_HEADER} is not an RFC 3339 time: {header[:64]!r}") from None
    if when.tzinfo is None:
        raise BadRequest(f"{SCHEDULE_TIME_HEADER} needs its offset (Z or ±hh:mm)")
    return floor_minute(when)


def job_runner(registry: JobRegistry) -> TaskHandler:
    """The task handler that runs the job and slot a payload names."""

    def run_scheduled_job(payload: dict[str, Any]) -> None:
        job = registry.get(payload.get("job") or "")
        if job is None:
            raise DiscardTask(f"unknown job {payload.get('job')!r}")
        try:
            slot = floor_minute(datetime.fromisoformat(payload["slot"]))
        except (KeyError, TypeError, ValueError):
            raise DiscardTask("payload has no valid slot") from None
        result = run_job(job, slot)
        if result.claim is Claim.BUSY:
            raise RetryLater(BUSY_RETRY_SECONDS, f"{job.name} {slot:%Y-%m-%d %H:%M} is running elsewhere")
        if result.claim is Claim.RAN and result.error is not None:
            raise JobFailed(result.error)

    return run_scheduled_job


def _problem(status: int, title: str, detail: str, slug: str, request: Request,
             headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    return problem_response(status, title, detail, slug, headers=headers, instance=request.path)

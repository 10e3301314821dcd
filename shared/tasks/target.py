"""The target side of a task: `handle_task` turns a handler into the answer the queue expects.

    @functions_framework.http
    def message_processor(request):
        return handle_task(request, process_message_task)  # process_message_task(payload: dict) -> None

Handlers must be idempotent: a task may run twice (our record is not a lock), so they re-check state.
What the queue is told (it retries anything but 2xx; STYLE rule 3):
    200 {"status": "done"}        the handler returned
    200 {"status": "discarded"}   the task can never succeed (body not a JSON object, or the handler raised
                                  DiscardTask): logged and kept in failed_tasks, where an admin may retry it
    400 / 404                     not a task delivery (no task name header, or not under /tasks/<name>)
    401 / 403                     not from our queue; nothing ran
    500                           the handler raised; on the last attempt the task also lands in failed_tasks
    503 + Retry-After             the handler raised RetryLater, or our database is down
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Request
from werkzeug.wrappers import Response

from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.errors import AppError
from shared.http import problem_response
from shared.logging import configure_logging, request_id_var
from shared.queue import QUEUE_NAME_HEADER, RETRY_COUNT_HEADER, TASK_NAME_HEADER
from shared.routing import TASKS_PREFIX
from shared.tasks.auth import TokenVerifier, authenticate_task
from shared.tasks.records import Delivery, complete_attempt, fail_attempt, start_attempt

log = logging.getLogger("clinicbot.tasks")
TaskHandler = Callable[[dict[str, Any]], None]
_logging_configured = threading.Event()


class RetryLater(Exception):
    """Raise from a handler for a transient failure whose end you know (a rate limit, a busy backend)."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {seconds:g} s")
        self.seconds = max(1, round(seconds))


class DiscardTask(Exception):
    """Raise from a handler when the task can never succeed (invalid payload, its subject is gone)."""


def handle_task(request: Request, handler: TaskHandler, *, settings: Settings | None = None,
                verify_token: TokenVerifier | None = None) -> Response:  # fmt: skip
    """Authenticate the queue, parse the payload, record the attempt, run `handler(payload)`, answer."""
    settings = settings or get_settings()
    _configure_logging_once(settings)
    target = _target_of(request.path)
    if target is None:
        return _problem(404, "Not Found", f"Task targets are served under {TASKS_PREFIX}/<name>", "not-found", request)
    try:
        authenticate_task(request.headers, target, settings, verify_token)
    except AppError as exc:
        log.warning("task delivery refused: %s", exc.detail, extra={"target": target, "status": exc.status})
        return _problem(exc.status, exc.title, exc.detail, exc.slug, request, exc.headers)
    task_id = request.headers.get(TASK_NAME_HEADER, "")
    if not task_id:
        return _problem(400, "Bad Request", f"Not a task delivery: no {TASK_NAME_HEADER}", "bad-request", request)
    request_id_var.set(task_id)
    queue = _logical_queue(request.headers.get(QUEUE_NAME_HEADER, ""), settings)
    attempt = _retry_count(request.headers.get(RETRY_COUNT_HEADER, "")) + 1
    payload = _json_object(request.get_data())
    if payload is None:
        unparsed = {"unparsed_body": request.get_data().decode("utf-8", "replace")[:2000]}
        delivery = Delivery(task_id, queue, target, unparsed, attempt)
        return _discard(delivery, "the body is not a JSON object", request)
    return _run(Delivery(task_id, queue, target, payload, attempt), handler, settings, request)


def _run(delivery: Delivery, handler: TaskHandler, settings: Settings, request: Request) -> Response:
    last = delivery.attempt >= settings.task_max_attempts
    if not _record(start_attempt, delivery):
        return _problem(503, "Service Unavailable", "Cannot record the task; retry later", "unavailable", request,
                        {"Retry-After": "5"})  # fmt: skip
    try:
        handler(delivery.payload)
    except DiscardTask as exc:
        return _discard(delivery, str(exc) or "discarded by its handler", request)
    except RetryLater as exc:
        log.warning("task asked to retry later: %s", exc, extra=_fields(delivery))
        _record(fail_attempt, delivery, f"RetryLater: {exc}", final=last)
        return _problem(503, "Service Unavailable", str(exc), "unavailable", request,
                        {"Retry-After": str(exc.seconds)})  # fmt: skip
    except Exception as exc:
        log.exception("task failed%s", " on its last attempt" if last else "", extra=_fields(delivery))
        _record(fail_attempt, delivery, f"{type(exc).__name__}: {exc}", final=last)
        return _problem(500, "Internal Server Error", "The task failed; the queue will retry it", "internal", request)
    _record(complete_attempt, delivery)  # if this fails the work is still done: answer 200
    return _json({"status": "done"})


def _discard(delivery: Delivery, reason: str, request: Request) -> Response:
    log.error("task discarded: %s", reason, extra=_fields(delivery))
    if not _record(fail_attempt, delivery, f"discarded: {reason}", final=True):
        # Keep it queued until the discard is on record, so an admin can see it and retry it.
        return _problem(503, "Service Unavailable", "Cannot record the task; retry later", "unavailable", request,
                        {"Retry-After": "5"})  # fmt: skip
    return _json({"status": "discarded", "reason": reason})


def _record(write: Callable[..., None], delivery: Delivery, *args: Any, **kwargs: Any) -> bool:
    try:
        with session_scope() as session:
            write(session, delivery, *args, **kwargs)
    except Exception:
        log.exception("could not update the task record", extra=_fields(delivery))
        return False
    return True


def _target_of(path: str) -> str | None:
    prefix, _, name = path.rstrip("/").rpartition("/")
    return name if prefix == TASKS_PREFIX and name else None


def _logical_queue(header: str, settings: Settings) -> str:
    # Cloud Tasks sends the queue id, the emulator its full path; both carry the TASK_QUEUE_NAME prefix.
    name = header.rsplit("/", 1)[-1]
    return name.removeprefix(f"{settings.task_queue_name}-")[:100] or "unknown"


def _retry_count(header: str) -> int:
    try:
        return max(0, int(header))
    except ValueError:
        return 0


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _fields(delivery: Delivery) -> dict[str, Any]:
    return {"task_id": delivery.task_id, "target": delivery.target, "attempt": delivery.attempt}


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=200, mimetype="application/json")


def _problem(status: int, title: str, detail: str, slug: str, request: Request,
             headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    return problem_response(status, title, detail, slug, headers=headers, instance=request.path)


def _configure_logging_once(settings: Settings) -> None:
    # A task target has no OpenAPI app (whose create_api configures logging), so it does it here.
    if not _logging_configured.is_set():
        _logging_configured.set()
        configure_logging(settings.log_level, settings.secret_values)

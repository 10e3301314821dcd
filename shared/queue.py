"""The task queue between functions: the port, the task's wire contract, and `enqueue`.

Call `enqueue` AFTER the commit of the data the task needs (STYLE rule 4). A task names a target function of
the routing table; the queue POSTs the JSON payload to `{TASK_TARGET_BASE_URL}/tasks/<target>`, where
`shared.tasks.target.handle_task` runs it. Two adapters stand behind the port: Cloud Tasks (production, or
its emulator) and an in-process queue (local stack, tests) that calls the target the same way.

Both adapters write our own record of the task first (`task_records`); a task id whose record exists is a
duplicate, so the same WhatsApp message id always gives one task.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.routing import task_path
from shared.tasks.models import TaskStatus
from shared.tasks.records import record_enqueued

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# What every delivery carries, whichever queue sends it (the X-CloudTasks-* names are Cloud Tasks' own).
QUEUE_NAME_HEADER = "X-CloudTasks-QueueName"
TASK_NAME_HEADER = "X-CloudTasks-TaskName"
RETRY_COUNT_HEADER = "X-CloudTasks-TaskRetryCount"
EXECUTION_COUNT_HEADER = "X-CloudTasks-TaskExecutionCount"
ETA_HEADER = "X-CloudTasks-TaskETA"
# The shared secret sent instead of an OIDC token (local stack, emulator, in-process queue).
SECRET_HEADER = "X-Clinicbot-Task-Secret"

MAX_TASK_ID_LENGTH = 500  # Cloud Tasks' limit
MAX_DELAY_SECONDS = 30 * 24 * 3600  # Cloud Tasks refuses schedule times further out
_TASK_ID = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_QUEUE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_TARGET = re.compile(r"[a-z][a-z0-9_]{0,62}")
_RETRY_SUFFIX = re.compile(r"-retry-[0-9a-f]{8}$")


def task_id_for(raw: str) -> str:
    """A valid Cloud Tasks task id for `raw`, always the same one: `raw` itself when it already is one,
    otherwise a readable prefix plus a hash of the whole (WAHA message ids hold `@` and `.`)."""
    if len(raw) <= MAX_TASK_ID_LENGTH and _TASK_ID.fullmatch(raw):
        return raw
    readable = _UNSAFE.sub("-", raw)[:200].strip("-")
    digest = hashlib.sha256(raw.encode()).hexdigest()[:24]
    return f"{readable}-{digest}" if readable else digest


def retry_task_id(task_id: str) -> str:
    """A fresh id for running a task again (Cloud Tasks refuses a task's name for a while after it ran)."""
    base = _RETRY_SUFFIX.sub("", task_id)
    return task_id_for(f"{base}-retry-{uuid.uuid4().hex[:8]}")


def target_url(settings: Settings, target: str) -> str:
    """The URL the queue POSTs `target`'s tasks to.

    TASK_TARGET_BASE_URL is one ingress for every function (`https://api.clinic.example`), or, where each
    function has its own host, a pattern with `{target}` (`http://{target}:8080` -> `message-processor`).
    """
    settings.require("task_target_base_url")
    base = settings.task_target_base_url.replace("{target}", target.replace("_", "-"))
    return f"{base.rstrip('/')}{task_path(target)}"


def cloud_queue_name(settings: Settings, queue: str) -> str:
    """The real queue behind logical queue `queue` ("messages" -> "clinicbot-tasks-messages")."""
    return f"{settings.task_queue_name}-{queue}"


@dataclass(frozen=True)
class Task:
    task_id: str
    queue: str  # logical queue: "messages", "media", "sessions"
    target: str  # function name in the routing table
    payload: dict[str, Any]  # as the target will see it: already through JSON
    body: bytes  # the JSON sent to the target
    delay: float | None = None  # seconds before the first attempt

    @classmethod
    def build(cls, queue: str, target: str, payload: dict, task_id: str | None = None,
              delay: float | None = None) -> Task:  # fmt: skip
        """Validate and serialise a task; a payload that JSON cannot carry fails here, as in production."""
        if not _QUEUE.fullmatch(queue):
            raise ValueError(f"invalid queue name {queue!r}: lowercase letters, digits and '-', at most 40")
        if not _TARGET.fullmatch(target):
            raise ValueError(f"invalid target {target!r}: a function name such as 'message_processor'")
        if not isinstance(payload, dict):
            raise TypeError(f"a task payload is a dict, not {type(payload).__name__}")
        if delay is not None and not 0 <= delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay must be between 0 and {MAX_DELAY_SECONDS} seconds")
        # allow_nan=False: Postgres' JSONB and strict JSON parsers refuse NaN and Infinity.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        task_id = task_id_for(task_id) if task_id else f"{target}-{uuid.uuid4().hex}"
        return cls(task_id, queue, target, json.loads(body), body, delay or None)


class TaskQueue(Protocol):
    def enqueue(self, queue: str, target: str, payload: dict, task_id: str | None = None,
                delay: float | None = None) -> bool:  # fmt: skip
        """Create a task; False when one with that id already exists (a duplicate is a success)."""
        ...

    def prepare(self, session: Session, queue: str, target: str, payload: dict, task_id: str | None = None,
                delay: float | None = None) -> Task | None:  # fmt: skip
        """Record a task in the caller's transaction; `submit` it after the commit."""
        ...

    def submit(self, task: Task) -> bool:
        """Create a prepared task in the queue."""
        ...


class RecordingTaskQueue(ABC):
    """Both adapters: write our record of the task, then create it in the real queue."""

    # True when the queue itself refuses a second task of the same name (Cloud Tasks does).
    names_are_unique: ClassVar[bool]

    def enqueue(self, queue: str, target: str, payload: dict, task_id: str | None = None,
                delay: float | None = None) -> bool:  # fmt: skip
        task = Task.build(queue, target, payload, task_id, delay)
        with session_scope() as session:
            existing = record_enqueued(session, task)
        if existing is None:
            return self.create_task(task)
        # A pending record may be all that is left of an enqueue that died before creating its task: ask a
        # queue whose names de-duplicate. Any other status means the task was created (it has run).
        if existing is TaskStatus.PENDING and self.names_are_unique:
            return self.create_task(task)
        return False

    def prepare(self, session: Session, queue: str, target: str, payload: dict, task_id: str | None = None,
                delay: float | None = None) -> Task | None:  # fmt: skip
        """Record a task inside the caller's unit of work (an outbox row); None when its id exists already.

        Hand what it returns to `submit` after the commit. The record then commits or rolls back with the
        data the task needs, and the intake pays for one transaction, not two. Should the process die
        between commit and submit, the record stays PENDING and the sweep catches the message.
        """
        task = Task.build(queue, target, payload, task_id, delay)
        return task if record_enqueued(session, task) is None else None

    def submit(self, task: Task) -> bool:
        """Create a task recorded by `prepare` (call after the commit)."""
        return self.create_task(task)

    @abstractmethod
    def create_task(self, task: Task) -> bool:
        """Hand `task` to the queue; False when the queue already holds a task of that name."""


@lru_cache(maxsize=1)
def get_task_queue() -> TaskQueue:
    """The configured queue, built once per process (imported lazily: the intake never loads gRPC locally)."""
    settings = get_settings()
    if settings.task_queue_backend == "cloudtasks":
        from shared.tasks.cloud_tasks import CloudTasksQueue

        return CloudTasksQueue(settings)
    from shared.tasks.in_process import InProcessQueue

    return InProcessQueue(
        settings=settings, backoff=(settings.task_min_backoff_seconds, settings.task_max_backoff_seconds)
    )


def enqueue(queue: str, target: str, payload: dict, task_id: str | None = None, delay: float | None = None) -> bool:
    """Create a task on the configured queue; False when a task with that id already existed."""
    return get_task_queue().enqueue(queue, target, payload, task_id, delay)

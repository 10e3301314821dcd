"""The in-process task queue (local stack, tests): calls the target function the way Cloud Tasks would.

Each attempt POSTs the task's JSON body to `/tasks/<target>` on the target's own functions-framework app
(built once per target, from `functions/<target>/main.py`), with the headers the Cloud Tasks emulator sends.
So a handler has one code path, and a payload that does not survive JSON fails at enqueue, as in production.

`inline=True` runs every attempt inside `enqueue`, back to back, ignoring delays (tests). Otherwise worker
threads run due tasks from a heap, retrying non-2xx answers with exponential backoff (or the answer's
Retry-After) up to TASK_MAX_ATTEMPTS. Tasks live in memory only: a restart loses them (`clinicbot sweep`
re-enqueues unprocessed messages).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import functions_framework
from flask import Flask

from shared.config import Settings, get_settings
from shared.migrate import PROJECT_ROOT
from shared.queue import (
    EXECUTION_COUNT_HEADER,
    QUEUE_NAME_HEADER,
    RETRY_COUNT_HEADER,
    SECRET_HEADER,
    TASK_NAME_HEADER,
    RecordingTaskQueue,
    Task,
    cloud_queue_name,
)
from shared.routing import task_path

log = logging.getLogger("clinicbot.tasks")


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class InProcessQueue(RecordingTaskQueue):
    names_are_unique = False  # de-duplicated by our task records alone

    def __init__(self, *, inline: bool = False, targets: Mapping[str, str | Path] | None = None,
                 settings: Settings | None = None, workers: int = 2,
                 backoff: tuple[float, float] = (1.0, 60.0)) -> None:  # fmt: skip
        """`targets` maps a target name to the file defining it (default: functions/<name>/main.py)."""
        self.settings = settings or get_settings()
        self.inline = inline
        self.max_attempts = self.settings.task_max_attempts
        self._targets = dict(targets or {})
        self._apps: dict[str, Flask] = {}
        self._apps_lock = threading.Lock()
        self._workers = workers
        self._min_backoff, self._max_backoff = backoff
        self._pid: int | None = None
        self._fresh_state()

    def create_task(self, task: Task) -> bool:
        if self.inline:
            self._run_now(task)
        else:
            self._schedule(task, 0, time.monotonic() + (task.delay or 0))
        return True

    def deliver(self, task: Task, retry_count: int) -> Answer:
        """One attempt: POST the task to its target as Cloud Tasks would; never raises."""
        headers = {
            "Content-Type": "application/json",
            QUEUE_NAME_HEADER: cloud_queue_name(self.settings, task.queue),
            TASK_NAME_HEADER: task.task_id,
            RETRY_COUNT_HEADER: str(retry_count),
            EXECUTION_COUNT_HEADER: str(retry_count),
        }
        if self.settings.task_auth_secret is not None:
            headers[SECRET_HEADER] = self.settings.task_auth_secret.get_secret_value()
        try:
            client = self._app(task.target).test_client(use_cookies=False)
            response = client.post(task_path(task.target), data=task.body, headers=headers)
        except Exception:
            log.exception("task target crashed", extra={"task_id": task.task_id, "target": task.target})
            return Answer(500)
        return Answer(response.status_code, _seconds(response.headers.get("Retry-After")))

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until no task is queued or running (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._ready:
            while self._heap or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._ready.wait(remaining)
        return True

    def discard_pending(self, timeout: float = 30.0) -> bool:
        """Drop every task not yet started, wait for the running ones (tests, between cases); False on timeout."""
        # What the running ones schedule meanwhile (a retry, a webhook's next attempt in 30 s) is dropped too:
        # waiting for it would wait out the timeout, and a retry chain against a WAHA that is down runs longer.
        deadline = time.monotonic() + timeout
        with self._ready:
            self._discarding = True
            try:
                self._heap.clear()
                while self._running:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._ready.wait(remaining)
                return True
            finally:
                self._heap.clear()
                self._discarding = False

    def close(self) -> None:
        """Stop the workers for good; tasks still queued are dropped."""
        if self._pid == os.getpid():
            with self._ready:
                self._stopped = True
                self._ready.notify_all()

    # Inline ---------------------------------------------------------------------------------------------

    def _run_now(self, task: Task) -> None:
        for retry_count in range(self.max_attempts):
            if self.deliver(task, retry_count).ok:
                return
        log.error("task gave up after %d attempts", self.max_attempts, extra={"task_id": task.task_id})

    # Background -----------------------------------------------------------------------------------------

    def _start_workers(self) -> None:
        # Threads do not survive a fork (gunicorn forks after import): start them in the process that uses them.
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._fresh_state()
        for number in range(self._workers):
            threading.Thread(target=self._work, name=f"task-worker-{number}", daemon=True).start()

    def _fresh_state(self) -> None:
        self._ready = threading.Condition()
        self._heap: list[tuple[float, int, Task, int]] = []
        self._order = itertools.count()
        self._running = 0
        self._stopped = False
        self._discarding = False

    def _schedule(self, task: Task, retry_count: int, due: float) -> None:
        self._start_workers()
        with self._ready:
            if self._stopped:
                raise RuntimeError("the in-process task queue is closed")
            if self._discarding:
                log.info("task dropped: the queue is being emptied", extra={"task_id": task.task_id})
                return
            heapq.heappush(self._heap, (due, next(self._order), task, retry_count))
            # All: a join() waits on the same condition, and a single wake-up taken by it would leave the
            # task to sleep until some other notification.
            self._ready.notify_all()

    def _work(self) -> None:
        while (item := self._next_due()) is not None:
            task, retry_count = item
            try:
                self._attempt(task, retry_count)
            finally:
                with self._ready:
                    self._running -= 1
                    self._ready.notify_all()

    def _next_due(self) -> tuple[Task, int] | None:
        with self._ready:
            while not self._stopped:
                if self._heap and self._heap[0][0] <= time.monotonic():
                    _, _, task, retry_count = heapq.heappop(self._heap)
                    self._running += 1
                    return task, retry_count
                self._ready.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
        return None

    def _attempt(self, task: Task, retry_count: int) -> None:
        answer = self.deliver(task, retry_count)
        if answer.ok:
            return
        if retry_count + 1 >= self.max_attempts:
            log.error("task gave up after %d attempts", retry_count + 1, extra={"task_id": task.task_id})
            return
        backoff = min(self._max_backoff, self._min_backoff * 2**retry_count)
        if answer.retry_after is not None:  # the target knows better, within our ceiling
            backoff = min(self._max_backoff, answer.retry_after)
        self._schedule(task, retry_count + 1, time.monotonic() + backoff)

    def _app(self, target: str) -> Flask:
        with self._apps_lock:
            if target not in self._apps:
                source = self._targets.get(target) or PROJECT_ROOT / f"functions/{target}/main.py"
                self._apps[target] = functions_framework.create_app(target, str(source))
            return self._apps[target]


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None

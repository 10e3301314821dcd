"""The local stack's Cloud Scheduler: POSTs the scheduler tick at the start of every minute.

A daemon thread of `clinicbot local` itself (no process to start or reap). Each call carries what Cloud Scheduler
sends, X-CloudScheduler-ScheduleTime for the minute it is for, with the task secret in place of an OIDC token.
A tick that fails is logged and not repeated: the next minute's tick catches every job's latest slot up.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import httpx

from shared.queue import SECRET_HEADER

SCHEDULE_TIME_HEADER = "X-CloudScheduler-ScheduleTime"
log = logging.getLogger("clinicbot.local.cron")


class LocalCron:
    def __init__(self, url: str, secret: str | None, *, timeout: float = 30.0) -> None:
        self.url, self.timeout = url, timeout
        self.headers = {"X-CloudScheduler": "true"} | ({SECRET_HEADER: secret} if secret else {})
        self.ticks = 0  # answered with a 2xx
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-cron", daemon=True)

    def start(self) -> LocalCron:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        while True:
            minute = (time.time() // 60 + 1) * 60  # the next one, chosen before the wait (which may wake early)
            if self._stopped.wait(max(0.0, minute - time.time())):
                return
            self.tick(datetime.fromtimestamp(minute, UTC))

    def tick(self, minute: datetime) -> bool:
        """POST the tick for `minute`; False (logged) when it did not answer 2xx."""
        headers = self.headers | {SCHEDULE_TIME_HEADER: minute.isoformat().replace("+00:00", "Z")}
        try:
            answer = httpx.post(self.url, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("the scheduler tick did not answer: %s", exc)
            return False
        if not answer.is_success:
            log.warning("the scheduler tick answered %d: %s", answer.status_code, answer.text[:300])
            return False
        self.ticks += 1
        return True

"""Webhook delivery as WAHA does it: signed, asynchronous, retried per the webhook's `retries` policy.

One worker thread per webhook target delivers that target's events in order. Real WAHA posts concurrently, so
a retried event can arrive after a later one; keeping order per target makes tests deterministic, and a
receiver must not rely on either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from local.waha_emulator.identifiers import new_request_id, now_ms

logger = logging.getLogger(__name__)

HMAC_ALGORITHM = "sha512"


@dataclass(frozen=True)
class RetryPolicy:
    """`RetriesConfiguration`; `attempts` counts retries after the first try, as WAHA's axios-retry does."""

    attempts: int = 15
    delay_seconds: float = 2.0
    policy: str = "constant"

    def delay_before(self, retry_number: int) -> float:
        if self.delay_seconds <= 0:
            return 0.0
        if self.policy == "linear":
            return retry_number * self.delay_seconds
        if self.policy == "exponential":
            delay = 2**retry_number * self.delay_seconds
            return delay + delay * 0.2 * random.random()
        return self.delay_seconds

    def merged_with(self, config: dict | None) -> RetryPolicy:
        """This policy with whatever a `retries` object sets (WAHA fills the gaps with 15 / 2 s / constant)."""
        config = config or {}
        return RetryPolicy(
            attempts=int(config.get("attempts", self.attempts)),
            delay_seconds=float(config.get("delaySeconds", self.delay_seconds)),
            policy=str(config.get("policy") or self.policy),
        )


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    events: tuple[str, ...]
    hmac_key: str | None
    retries: RetryPolicy
    custom_headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config: dict, default_retries: RetryPolicy) -> WebhookTarget:
        """From a `WebhookConfig` (url, events, hmac.key, retries, customHeaders)."""
        headers = tuple((h["name"], h["value"]) for h in config.get("customHeaders") or [])
        return cls(
            url=config["url"],
            events=tuple(config.get("events") or ()),
            hmac_key=(config.get("hmac") or {}).get("key") or None,
            retries=default_retries.merged_with(config.get("retries")),
            custom_headers=headers,
        )

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events


def serialize_envelope(envelope: dict) -> bytes:
    """Compact UTF-8 JSON, like JSON.stringify: the exact bytes that are signed and sent."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def sign_body(key: str, body: bytes) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


@dataclass(frozen=True)
class _Delivery:
    target: WebhookTarget
    event: str
    event_id: str
    body: bytes
    headers: dict[str, str]


class DeliveryLog:
    """Every delivery attempt, so tests and developers can see what reached the webhook and how."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: list[dict] = []

    def record(self, delivery: _Delivery, attempt: int, status_code: int | None, error: str | None) -> None:
        entry = {
            "event": delivery.event,
            "event_id": delivery.event_id,
            "request_id": delivery.headers["X-Webhook-Request-Id"],
            "url": delivery.target.url,
            "attempt": attempt,
            "status_code": status_code,
            "error": error,
            "delivered": status_code is not None and 200 <= status_code < 300,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        with self._lock:
            self._attempts.append(entry)

    def list(self, event: str | None = None) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._attempts if event is None or a["event"] == event]

    def clear(self) -> None:
        with self._lock:
            self._attempts.clear()


class WebhookDispatcher:
    """Queues each event for every target that subscribed to it; workers post and retry."""

    def __init__(self, log: DeliveryLog, user_agent: str, timeout: float = 10.0) -> None:
        self._log = log
        self._user_agent = user_agent
        self._timeout = timeout
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._workers: dict[WebhookTarget, _TargetWorker] = {}

    def dispatch(self, targets: list[WebhookTarget], envelope: dict) -> None:
        event = envelope["event"]
        wanted = [target for target in targets if target.wants(event)]
        if not wanted or self._stopping.is_set():
            return
        body = serialize_envelope(envelope)
        for target in wanted:
            delivery = _Delivery(target, event, envelope["id"], body, self._build_headers(target, body))
            self._worker_for(target).submit(delivery)

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def _build_headers(self, target: WebhookTarget, body: bytes) -> dict[str, str]:
        # One request id and timestamp per delivery, kept across its retries (WAHA builds the headers once).
        headers = {"Content-Type": "application/json", "User-Agent": self._user_agent}
        headers |= dict(target.custom_headers)
        headers |= {"X-Webhook-Request-Id": new_request_id(), "X-Webhook-Timestamp": str(now_ms())}
        if target.hmac_key:
            headers |= {"X-Webhook-Hmac": sign_body(target.hmac_key, body), "X-Webhook-Hmac-Algorithm": HMAC_ALGORITHM}
        return headers

    def _worker_for(self, target: WebhookTarget) -> _TargetWorker:
        with self._lock:
            worker = self._workers.get(target)
            if worker is None:
                worker = _TargetWorker(self._log, self._stopping, self._timeout)
                self._workers[target] = worker
            return worker


class _TargetWorker:
    def __init__(self, log: DeliveryLog, stopping: threading.Event, timeout: float) -> None:
        self._log = log
        self._stopping = stopping
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._http = httpx.Client(timeout=timeout)
        self._thread = threading.Thread(target=self._run, name="waha-emulator-webhook", daemon=True)
        self._thread.start()

    def submit(self, delivery: _Delivery) -> None:
        self._queue.put(delivery)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._http.close()

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            if not self._stopping.is_set():
                self._deliver(delivery)

    def _deliver(self, delivery: _Delivery) -> None:
        retries = delivery.target.retries
        for attempt in range(1, retries.attempts + 2):
            status_code, error = self._post(delivery)
            self._log.record(delivery, attempt, status_code, error)
            event, url, outcome = delivery.event, delivery.target.url, status_code if error is None else error
            if status_code is not None and 200 <= status_code < 300:
                logger.info("webhook %s %s -> %s (attempt %d)", event, url, outcome, attempt)
                return
            if attempt > retries.attempts:
                logger.warning("webhook %s to %s gave up after %d attempts (last: %s)", event, url, attempt, outcome)
                return
            logger.info("webhook %s %s -> %s; retry %d", event, url, outcome, attempt)
            if self._stopping.wait(retries.delay_before(attempt)):
                return

    def _post(self, delivery: _Delivery) -> tuple[int | None, str | None]:
        try:
            response = self._http.post(delivery.target.url, content=delivery.body, headers=delivery.headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

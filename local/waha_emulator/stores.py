"""In-memory records: what the bot sent (the outbox), downloadable media, and the fault switches."""

from __future__ import annotations

import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# WAHA names files after the message id plus an extension; these are the ones Python guesses differently.
_EXTENSIONS = {"audio/ogg": "oga", "image/jpeg": "jpeg", "audio/mpeg": "mp3", "video/mp4": "mp4"}


class Outbox:
    """Messages the bot sent (oldest first) and its chat actions (seen, typing), kept apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict] = []
        self._actions: list[dict] = []

    def add_message(self, record: dict) -> None:
        with self._lock:
            self._messages.append(record)

    def add_action(self, record: dict) -> None:
        with self._lock:
            self._actions.append(record)

    def list_messages(self, chat_ids: set[str] | None = None) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._messages if chat_ids is None or m["chatId"] in chat_ids]

    def list_actions(self, chat_ids: set[str] | None = None) -> list[dict]:
        with self._lock:
            return [dict(a) for a in self._actions if chat_ids is None or a["chatId"] in chat_ids]

    def find_message(self, message_id: str) -> dict | None:
        with self._lock:
            return next((dict(m) for m in self._messages if m["id"] == message_id), None)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._actions.clear()


@dataclass(frozen=True)
class StoredFile:
    content: bytes
    mimetype: str
    expires_at: float


class MediaStore:
    """Media bytes served at `/api/files/{session}/{file}` until they expire, as WAHA's local storage does."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], StoredFile] = {}

    def put(self, session: str, message_id: str, mimetype: str, content: bytes) -> str:
        """Store the bytes; the file name (message id + extension) to build the URL from."""
        name = f"{message_id}.{extension_for(mimetype)}"
        with self._lock:
            self._drop_expired()
            self._files[(session, name)] = StoredFile(content, mimetype, self._clock() + self._ttl)
        return name

    def get(self, session: str, name: str) -> StoredFile | None:
        with self._lock:
            self._drop_expired()
            return self._files.get((session, name))

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [key for key, stored in self._files.items() if stored.expires_at <= now]:
            del self._files[key]


def extension_for(mimetype: str) -> str:
    base = mimetype.split(";", 1)[0].strip().lower()
    if base in _EXTENSIONS:
        return _EXTENSIONS[base]
    guessed = mimetypes.guess_extension(base)
    return guessed.lstrip(".") if guessed else "bin"


@dataclass
class FaultPlan:
    fail_next: int = 0
    status: int = 500
    delay_ms: int = 0
    delay_count: int = 0


class Faults:
    """Switches that make the next sends fail or answer slowly, to exercise the client's error paths."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = FaultPlan()

    def configure(self, fail_next: int | None, status: int | None, delay_ms: int | None, count: int | None) -> dict:
        with self._lock:
            if fail_next is not None:
                self._plan.fail_next = fail_next
            if status is not None:
                self._plan.status = status
            if delay_ms is not None:
                self._plan.delay_ms = delay_ms
                self._plan.delay_count = 1 if count is None else count
            return self.describe_unlocked()

    def take(self) -> tuple[float, int | None]:
        """For one send: seconds to wait first, and the status to fail with (None to succeed)."""
        with self._lock:
            delay = 0.0
            if self._plan.delay_count > 0:
                self._plan.delay_count -= 1
                delay = self._plan.delay_ms / 1000
            failing = None
            if self._plan.fail_next > 0:
                self._plan.fail_next -= 1
                failing = self._plan.status
            return delay, failing

    def clear(self) -> None:
        with self._lock:
            self._plan = FaultPlan()

    def describe(self) -> dict:
        with self._lock:
            return self.describe_unlocked()

    def describe_unlocked(self) -> dict:
        plan = self._plan
        counts = {"fail_next": plan.fail_next, "status": plan.status}
        return counts | {"delay_ms": plan.delay_ms, "count": plan.delay_count}

"""Sessions and their status machine: STOPPED -> STARTING -> SCAN_QR_CODE -> WORKING (and FAILED).

A session that was paired once (scanned) remembers it, like WAHA's stored auth: a restart goes from
STARTING straight to WORKING; a logout forgets it and the next start asks for a QR scan again. Errors
carry WAHA's status codes and messages (taken from its SessionManager), so the client's handling is real.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from local.waha_emulator.identifiers import now_ms

STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED = "STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"
_HISTORY = 10  # status points kept for `statuses`


class SessionError(Exception):
    """An API error: HTTP status and the JSON body WAHA answers with."""

    def __init__(self, status: int, message: str | dict) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(name: str) -> SessionError:
    return SessionError(
        404,
        f"We didn't find a session with name '{name}'.\n"
        f"Please start it first by using POST /api/sessions/{name}/start request",
    )


@dataclass
class Session:
    name: str
    config: dict
    me_phone: str
    push_name: str
    status: str = STOPPED
    statuses: list[dict] = field(default_factory=list)
    paired: bool = False
    qr_value: str | None = None
    generation: int = 0  # bumped by every start/stop, so timers from an older run do nothing
    activity_ms: int | None = None

    def me(self) -> dict | None:
        """`MeInfo` while connected; WAHA has none before pairing or while stopped."""
        if self.status != WORKING:
            return None
        return {"id": f"{self.me_phone}@c.us", "pushName": self.push_name}

    def describe(self) -> dict:
        """`SessionDTO`: what start/stop/create answer with."""
        return {"name": self.name, "status": self.status, "config": self.config}

    def describe_info(self) -> dict:
        """`SessionInfo`, with the nulls WAHA's SessionManager puts in when there is no value."""
        return {
            "name": self.name,
            "status": self.status,
            "config": self.config,
            "me": self.me(),
            "presence": None,
            "timestamps": {"activity": self.activity_ms},
        }


class SessionRegistry:
    """All sessions; `notify` hears every status change, in order, while the registry lock is held."""

    def __init__(
        self,
        notify: Callable[[Session], None],
        me_phone_for: Callable[[str], str],
        push_name: str,
        boot_delay: float,
        auto_scan_delay: float | None,
    ) -> None:
        self.lock = threading.RLock()
        self._notify = notify
        self._me_phone_for = me_phone_for
        self._push_name = push_name
        self._boot_delay = boot_delay
        self._auto_scan_delay = auto_scan_delay
        self._sessions: dict[str, Session] = {}
        self._timers: set[threading.Timer] = set()

    def create(self, name: str, config: dict | None, start: bool) -> Session:
        with self.lock:
            if name in self._sessions:
                raise SessionError(422, f"Session '{name}' already exists. Use PUT to update it.")
            session = Session(name, config or {}, self._me_phone_for(name), self._push_name)
            self._sessions[name] = session
            if start:
                self._start(session)
            return session

    def get(self, name: str) -> Session:
        with self.lock:
            session = self._sessions.get(name)
            if session is None:
                raise not_found(name)
            return session

    def list(self, include_stopped: bool) -> list[Session]:
        with self.lock:
            return [s for s in self._sessions.values() if include_stopped or s.status != STOPPED]

    def update(self, name: str, config: dict | None) -> Session:
        """Replace the config; a running session restarts to pick it up, as WAHA does."""
        with self.lock:
            session = self.get(name)
            session.config = config or {}
            if session.status != STOPPED:
                self._stop(session)
                self._start(session)
            return session

    def delete(self, name: str) -> None:
        with self.lock:
            session = self.get(name)
            self._stop(session)
            del self._sessions[name]

    def start(self, name: str) -> Session:
        with self.lock:
            session = self.get(name)
            if session.status != STOPPED:
                raise SessionError(422, f"Session '{name}' is already started.")
            self._start(session)
            return session

    def stop(self, name: str) -> Session:
        with self.lock:
            session = self.get(name)
            self._stop(session)
            return session

    def restart(self, name: str) -> Session:
        with self.lock:
            session = self.get(name)
            self._stop(session)
            self._start(session)
            return session

    def logout(self, name: str) -> Session:
        """Forget the pairing; a running session starts over and waits for a new scan."""
        with self.lock:
            session = self.get(name)
            session.paired = False
            if session.status != STOPPED:
                self._stop(session)
                self._start(session)
            return session

    def scan(self, name: str) -> Session:
        """The phone scanned the QR code."""
        with self.lock:
            session = self.get(name)
            if session.status != SCAN_QR_CODE:
                message = f"Can scan only in SCAN_QR_CODE status. The current status is '{session.status}'"
                raise SessionError(422, message)
            self._pair(session)
            return session

    def fail(self, name: str) -> Session:
        with self.lock:
            session = self.get(name)
            session.generation += 1
            self._set_status(session, FAILED)
            return session

    def require_working(self, name: str) -> Session:
        with self.lock:
            session = self.get(name)
            if session.status != WORKING:
                raise SessionError(422, {
                    "error": "Session status is not as expected. Try again later or restart the session",
                    "session": name,
                    "status": session.status,
                    "expected": [WORKING],
                })  # fmt: skip
            session.activity_ms = now_ms()
            return session

    def close(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    def _start(self, session: Session) -> None:
        session.generation += 1
        self._set_status(session, STARTING)
        self._schedule(self._boot_delay, self._finish_boot, session.name, session.generation)

    def _stop(self, session: Session) -> None:
        session.generation += 1
        if session.status != STOPPED:
            self._set_status(session, STOPPED)

    def _pair(self, session: Session) -> None:
        session.paired = True
        session.qr_value = None
        self._set_status(session, WORKING)

    def _finish_boot(self, name: str, generation: int) -> None:
        with self.lock:
            session = self._sessions.get(name)
            if session is None or session.generation != generation or session.status != STARTING:
                return
            if session.paired:
                self._set_status(session, WORKING)
                return
            session.qr_value = _new_qr_value()
            self._set_status(session, SCAN_QR_CODE)
            if self._auto_scan_delay is not None:
                self._schedule(self._auto_scan_delay, self._auto_scan, name, generation)

    def _auto_scan(self, name: str, generation: int) -> None:
        with self.lock:
            session = self._sessions.get(name)
            if session is not None and session.generation == generation and session.status == SCAN_QR_CODE:
                self._pair(session)

    def _set_status(self, session: Session, status: str) -> None:
        session.status = status
        session.statuses = [*session.statuses, {"status": status, "timestamp": now_ms()}][-_HISTORY:]
        self._notify(session)

    def _schedule(self, delay: float, action: Callable[..., None], *args: object) -> None:
        timer = threading.Timer(delay, action, args)
        timer.daemon = True
        self._timers = {t for t in self._timers if t.is_alive()} | {timer}
        timer.start()


def _new_qr_value() -> str:
    # The shape of WhatsApp's pairing string: "2@<ref>,<noise key>,<identity key>,<adv secret>".
    parts = [base64.b64encode(secrets.token_bytes(size)).decode() for size in (48, 32, 32, 32)]
    return "2@" + ",".join(parts)

"""Use cases of WAHA sessions for administrators: the pairing QR code, status, restart, and pointing a session at
our webhook intake.

Each use case talks to WAHA before it touches the database, so no connection from our small pool waits on WAHA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.config import Settings, get_settings
from shared.errors import BadRequest, Conflict
from shared.whatsapp.client import WahaClient
from shared.whatsapp.errors import WahaNotFound
from shared.whatsapp.models import SessionStatus, WahaSession
from shared.whatsapp.payloads import build_webhook_config
from shared.whatsapp.phone import phone_from_chat_id
from shared.whatsapp.sessions import record_session_status

SESSION_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
AUDIT_ENTITY = "waha_session"
QrFormat = Literal["png", "base64", "raw"]


@dataclass(frozen=True)
class SessionState:
    """A session as WAHA reports it now, beside what our `waha_sessions` row last recorded."""

    name: str
    status: SessionStatus
    phone: str | None = None
    stored_status: SessionStatus | None = None
    stored_at: datetime | None = None
    webhook_url: str | None = None


def connect_waha(name: str, settings: Settings | None = None) -> WahaClient:
    """A WAHA client bound to session `name`, for a request someone is waiting on."""
    # One quick retry, not the default three with backoff: an admin would rather see 503 in a second than wait
    # four for the same answer.
    return WahaClient.from_settings(settings, session=name, retries=1, backoff=0.5)


def fetch_pairing_qr(waha: WahaClient, qr_format: QrFormat) -> bytes | dict[str, str]:
    """The QR code that pairs the clinic's phone: PNG bytes, `{mimetype, data}` or `{value}`."""
    status = _status_of(waha.get_session())
    if status is SessionStatus.WORKING:
        raise BadRequest(f"Session {waha.session!r} is already authenticated (WORKING): there is no QR code to scan")
    if status is not SessionStatus.SCAN_QR_CODE:
        raise Conflict(
            f"Session {waha.session!r} is {status.value}; a QR code exists only in SCAN_QR_CODE "
            "(wait while it is STARTING, restart it when STOPPED or FAILED)"
        )
    if qr_format == "base64":
        return waha.get_qr_base64()
    if qr_format == "raw":
        return {"value": waha.get_qr_raw()}
    return waha.get_qr_png()


def describe_session(session: Session, waha: WahaClient) -> SessionState:
    """The session's live status from WAHA, with our stored row's last status (read only)."""
    info = waha.get_session()
    row = session.scalar(select(WahaSession).where(WahaSession.name == waha.session))
    return _state_of(waha.session, _status_of(info), _phone_of(info), row)


def restart_session(session: Session, waha: WahaClient, actor: Principal) -> SessionState:
    """Stop and start the session in WAHA, record its new status and audit who did it."""
    answer = waha.restart_session()
    status = _status_of(answer)
    previous, row = _store_session(session, waha.session, status, _phone_of(answer))
    record_audit(session, actor, "waha.session.restart", AUDIT_ENTITY, waha.session,
                 before={"status": previous.value if previous else None}, after={"status": status.value})  # fmt: skip
    return _state_of(waha.session, status, _phone_of(answer), row)


def configure_session(
    session: Session, waha: WahaClient, actor: Principal, settings: Settings | None = None
) -> tuple[SessionState, bool]:
    """Create the session, or update its config, so that it sends our events to our intake; start it if stopped.

    Returns the state and whether WAHA had to create the session.
    """
    webhook = build_intake_webhook(settings or get_settings())
    try:
        current: dict[str, Any] | None = waha.get_session()
    except WahaNotFound:
        current = None
    if current is None:
        answer = waha.create_session({"webhooks": [webhook]}, start=True)
    else:
        answer = waha.update_session(merge_webhook(current.get("config"), webhook))
        # WAHA restarts a running session to apply a new config but leaves a stopped one stopped.
        if _status_of(answer) is SessionStatus.STOPPED:
            answer = waha.start_session()
    status = _status_of(answer)
    previous, row = _store_session(session, waha.session, status, _phone_of(answer), webhook_url=webhook["url"])
    after = {"created": current is None, "status": status.value, "webhook_url": webhook["url"],
             "events": webhook["events"], "signed": "hmac" in webhook}  # fmt: skip
    record_audit(session, actor, "waha.session.configure", AUDIT_ENTITY, waha.session,
                 before={"status": previous.value if previous else None}, after=after)  # fmt: skip
    return _state_of(waha.session, status, _phone_of(answer), row), current is None


def build_intake_webhook(settings: Settings) -> dict[str, Any]:
    """Our intake's `WebhookConfig`: WAHA_WEBHOOK_URL, our events, signed when WAHA_WEBHOOK_HMAC_KEY is set."""
    if not settings.waha_webhook_url:
        raise BadRequest(
            "WAHA_WEBHOOK_URL is not configured: set it to the public URL of our webhook intake "
            "(https://<host>/api/v1/webhooks/waha) before configuring a session"
        )
    key = settings.waha_webhook_hmac_key
    webhook = build_webhook_config(settings.waha_webhook_url, key.get_secret_value() if key else "")
    if key is None:
        # The intake checks signatures only when it has a key, so an unsigned webhook is what it expects then.
        del webhook["hmac"]
    return webhook


def merge_webhook(config: dict[str, Any] | None, webhook: dict[str, Any]) -> dict[str, Any]:
    """`config` with our webhook in place of any earlier one to the same URL; the rest of it is kept.

    WAHA replaces the whole config on update, so dropping what we did not set would silently undo an
    operator's proxy, metadata or extra webhook.
    """
    kept = {name: value for name, value in (config or {}).items() if value is not None}
    others = [hook for hook in kept.get("webhooks") or [] if hook.get("url") != webhook["url"]]
    return {**kept, "webhooks": [webhook, *others]}


def _store_session(
    session: Session, name: str, status: SessionStatus, phone: str | None, webhook_url: str | None = None
) -> tuple[SessionStatus | None, WahaSession]:
    previous = record_session_status(session, name, status, phone)
    if webhook_url is not None:
        session.execute(update(WahaSession).where(WahaSession.name == name).values(webhook_url=webhook_url))
    row = session.scalars(
        select(WahaSession).where(WahaSession.name == name).execution_options(populate_existing=True)
    ).one()
    return previous, row


def _state_of(name: str, status: SessionStatus, phone: str | None, row: WahaSession | None) -> SessionState:
    if row is None:
        return SessionState(name=name, status=status, phone=phone)
    return SessionState(
        name=name,
        status=status,
        phone=phone or row.phone_number,
        stored_status=row.status,
        stored_at=row.last_ping_at or row.updated_at,
        webhook_url=row.webhook_url,
    )


def _status_of(answer: dict[str, Any]) -> SessionStatus:
    # WAHA's spec enumerates these statuses; anything else is a contract break worth a logged 500.
    return SessionStatus(answer["status"])


def _phone_of(answer: dict[str, Any]) -> str | None:
    me = answer.get("me") or {}
    return phone_from_chat_id(me.get("id"))

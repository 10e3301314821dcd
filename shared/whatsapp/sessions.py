"""The WAHA sessions we know of, kept in step with WAHA's `session.status` events."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.alerts.models import AlertSeverity
from shared.alerts.service import raise_alert
from shared.notifications.service import notify_admins
from shared.whatsapp.models import SessionStatus, WahaSession

_sessions = WahaSession.__table__


def record_session_status(
    session: Session, name: str, status: SessionStatus, phone: str | None
) -> SessionStatus | None:
    """Store a session's new status; returns the status it had before (None for a session new to us)."""
    previous = session.execute(
        select(_sessions.c.status).where(_sessions.c.name == name).with_for_update()
    ).scalar_one_or_none()
    statement = insert(_sessions).values(name=name, status=status, phone_number=phone, last_ping_at=func.now())
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_sessions.c.name],
            set_={
                "status": statement.excluded.status,
                "phone_number": func.coalesce(statement.excluded.phone_number, _sessions.c.phone_number),
                "last_ping_at": func.now(),
                "updated_at": func.now(),
            },
        )
    )
    return previous


def react_to_session_status(session: Session, name: str, status: SessionStatus, previous: SessionStatus | None) -> bool:
    """Tell people what a status change means; True when a restart should be attempted."""
    if status == previous:
        return False  # WAHA repeats events; one alert per change is enough
    if status == SessionStatus.SCAN_QR_CODE:
        notify_admins(
            session,
            "WhatsApp desconectado",
            f"A sessão {name} precisa ser autenticada: leia o QR code em Administração > WhatsApp.",
        )
    if status == SessionStatus.FAILED:
        raise_alert(
            session, "waha_session_failed", AlertSeverity.CRITICAL, f"WAHA session {name} FAILED", waha_session=name
        )
        return True
    return False

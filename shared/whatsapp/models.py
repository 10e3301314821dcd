"""The WAHA sessions (WhatsApp numbers) the clinic runs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, UUIDPk, pg_enum


class SessionStatus(enum.StrEnum):
    """WAHA 2026.7.1 `SessionDTO.status`."""

    STOPPED = "STOPPED"
    STARTING = "STARTING"
    SCAN_QR_CODE = "SCAN_QR_CODE"
    PASSKEY_REQUIRED = "PASSKEY_REQUIRED"
    PASSKEY_CONFIRMATION_REQUIRED = "PASSKEY_CONFIRMATION_REQUIRED"
    WORKING = "WORKING"
    FAILED = "FAILED"


class WahaSession(Timestamps, Base):
    __tablename__ = "waha_sessions"

    id: Mapped[UUIDPk]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[SessionStatus] = mapped_column(
        pg_enum(SessionStatus, "session_status"), default=SessionStatus.STOPPED, index=True
    )
    qr_code: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(String(32), index=True)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    last_ping_at: Mapped[datetime | None]

"""Operational alerts: WAHA down, queue backlog, rate limits hit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, UUIDPk, pg_enum


class AlertSeverity(enum.StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[UUIDPk]
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[AlertSeverity] = mapped_column(pg_enum(AlertSeverity, "alert_severity"))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    created_at: Mapped[CreatedAt] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_alerts_kind_resolved_at", "kind", "resolved_at"),)

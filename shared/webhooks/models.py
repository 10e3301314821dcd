"""Outbound webhooks (card 113): the endpoints an ADMIN registers and each event's delivery to one of them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, Timestamps, UUIDPk, pg_enum

URL_MAX = 2048
EVENT_MAX = 64
DESCRIPTION_MAX = 500


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookEndpoint(Timestamps, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[UUIDPk]
    url: Mapped[str] = mapped_column(String(URL_MAX))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(EVENT_MAX)))
    # Kept in clear: signing needs it. Shown once, at creation and at each rotation.
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookDelivery(Timestamps, Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[UUIDPk]
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(EVENT_MAX))
    # The event's id, the same for every endpoint; unique per endpoint so that an event emitted twice (a task
    # run again) is delivered once.
    event_id: Mapped[uuid.UUID]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the body sent, identical on every attempt
    status: Mapped[DeliveryStatus] = mapped_column(
        pg_enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempt_count: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    # A redelivery extends it: the attempt with this number is the last one.
    attempt_limit: Mapped[int] = mapped_column(SmallInteger)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    # One entry per finished attempt: number, attempted_at, status_code, duration_ms, error.
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

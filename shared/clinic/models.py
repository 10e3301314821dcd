"""The clinic's own settings (issue 11): its time zone, hours, closures, SLA and the money inputs of the metrics.

One row (id = 1) that the migration creates with the defaults, so readers never have to guess them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UpdatedAt

SETTINGS_ROW = 1


class ClinicSettings(Base):
    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False, default=SETTINGS_ROW)
    timezone: Mapped[str] = mapped_column(String(64), server_default=text("'America/Sao_Paulo'"))
    # {"monday": [["08:00", "12:00"], ["13:30", "18:00"]], ...}: several intervals a weekday, none when closed.
    business_hours: Mapped[dict[str, Any]] = mapped_column(JSONB)
    holiday_country: Mapped[str] = mapped_column(String(2), server_default=text("'BR'"))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(8), server_default=text("'SP'"))
    closures: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sla_seconds: Mapped[int] = mapped_column(Integer, server_default=text("300"))
    competitors: Mapped[list[Any]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    monthly_operational_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    implementation_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    avg_transaction_value: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    secretary_hourly_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default=text("0"))
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("sla_seconds > 0", name="sla_positive"),
    )

"""Who a metric is computed for and over what: the period, the scope (the clinic, or one secretary) and the
clinic's settings. Every metric module takes a `MetricsContext` and nothing else from the request.

Scope: an ADMIN sees the whole clinic, or one user's numbers with `user_id`; a USER sees her own (naming another
user is 403). "Hers" means the conversations and leads assigned to her now.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.clinic.calendar import BusinessCalendar
from shared.clinic.schemas import ClinicSettingsOut
from shared.clinic.service import get_clinic_settings
from shared.errors import Forbidden, NotFound
from shared.metrics.period import MetricsQuery, Period, resolve_period
from shared.users.models import User


@dataclass(frozen=True)
class MetricsContext:
    period: Period
    user_id: uuid.UUID | None  # None: the whole clinic
    settings: ClinicSettingsOut
    now: datetime

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.settings)

    def previous(self) -> MetricsContext:
        return replace(self, period=self.period.previous())

    def with_period(self, period: Period) -> MetricsContext:
        return replace(self, period=period)

    def bounds(self) -> dict[str, object]:
        """The period's SQL parameters: `start`, `end` (exclusive), `zone` and `user_id` (None for the clinic)."""
        return {"start": self.period.start, "end": self.period.end, "zone": self.period.zone_name,
                "user_id": self.user_id}  # fmt: skip

    def conversation_scope(self, alias: str = "c") -> str:
        """SQL condition on a `conversations` alias keeping the scope's conversations."""
        return "TRUE" if self.user_id is None else f"{alias}.assigned_to_user_id = :user_id"

    def lead_scope(self, alias: str = "l") -> str:
        """SQL condition on a `leads` alias keeping the scope's live leads."""
        live = f"{alias}.deleted_at IS NULL"
        return live if self.user_id is None else f"{live} AND {alias}.assigned_to_user_id = :user_id"


def resolve_scope(session: Session, actor: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The user whose numbers `actor` gets: ADMIN any (404 for an unknown one), a USER only herself."""
    if not actor.is_admin:
        if requested not in (None, actor.user_id):
            raise Forbidden("A secretary sees only her own numbers")
        return actor.user_id
    if requested is not None and session.scalar(select(User.id).where(User.id == requested)) is None:
        raise NotFound("User not found")
    return requested


def metrics_context(
    session: Session, actor: Principal, query: MetricsQuery, now: datetime | None = None
) -> MetricsContext:
    """The context of one metrics request."""
    settings = get_clinic_settings(session)
    moment = now or datetime.now(UTC)
    return MetricsContext(resolve_period(query, settings.timezone, moment),
                          resolve_scope(session, actor, query.user_id), settings, moment)  # fmt: skip

"""Reading and changing the clinic settings (ADMIN, audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.clinic.calendar import BusinessCalendar
from shared.clinic.models import SETTINGS_ROW, ClinicSettings
from shared.clinic.schemas import DEFAULT_HOURS, ClinicSettingsOut, ClinicSettingsUpdate
from shared.config import get_settings

_JSON_FIELDS = {"business_hours", "closures", "competitors"}


def _row(session: Session, *, lock: bool = False) -> ClinicSettings:
    statement = select(ClinicSettings).where(ClinicSettings.id == SETTINGS_ROW)
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:  # a new clinic: the defaults (its zone from CLINIC_TIMEZONE), written once by the first reader
        session.execute(insert(ClinicSettings).values(id=SETTINGS_ROW, business_hours=DEFAULT_HOURS,
                                                            timezone=get_settings().clinic_timezone)
                        .on_conflict_do_nothing())  # fmt: skip
        row = session.scalars(statement.with_for_update() if lock else statement).one()
    return row


def _out(row: ClinicSettings) -> ClinicSettingsOut:
    return ClinicSettingsOut.model_validate(row, from_attributes=True)


def get_clinic_settings(session: Session) -> ClinicSettingsOut:
    """The clinic's settings."""
    return _out(_row(session))


def get_calendar(session: Session) -> BusinessCalendar:
    """The clinic's business calendar, from its current settings."""
    return BusinessCalendar(get_clinic_settings(session))


def update_clinic_settings(session: Session, actor: Principal, body: ClinicSettingsUpdate) -> ClinicSettingsOut:
    """Replace the fields sent, keep the others; the audit row holds both versions of what changed."""
    row = _row(session, lock=True)
    before = _out(row).model_dump(mode="json")
    as_json = body.model_dump(mode="json", exclude_unset=True)
    for name, value in body.model_dump(exclude_unset=True).items():
        if name == "holiday_subdivision":
            row.holiday_subdivision = value or None  # "" or null: national holidays only
        elif value is not None:
            setattr(row, name, as_json[name] if name in _JSON_FIELDS else value)
    row.updated_by_user_id = actor.user_id
    session.flush()
    session.refresh(row)
    after = _out(row).model_dump(mode="json")
    changed = {name for name in after if after[name] != before[name] and name != "updated_at"}
    if changed:
        names = sorted(changed)
        record_audit(session, actor, "clinic_settings.update", "clinic_settings", SETTINGS_ROW,
                     before={n: before[n] for n in names}, after={n: after[n] for n in names})  # fmt: skip
    return _out(row)

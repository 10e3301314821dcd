"""Reading the audit trail (card 109): read side, one filtered and paginated query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.audit.models import AuditLog
from shared.audit.schemas import AuditLogOut, AuditLogQuery
from shared.pagination import Page, paginate

_EXACT_FILTERS = ("user_id", "action", "entity_type", "entity_id")


def list_audit_logs(session: Session, query: AuditLogQuery) -> Page[AuditLogOut]:
    """Audit entries matching every given filter, newest first."""
    statement = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    for name in _EXACT_FILTERS:
        value = getattr(query, name)
        if value is not None:
            statement = statement.where(getattr(AuditLog, name) == value)
    if query.date_from is not None:
        statement = statement.where(AuditLog.created_at >= query.date_from)
    if query.date_to is not None:
        statement = statement.where(AuditLog.created_at < query.date_to)
    return paginate(session, statement, query, AuditLogOut.model_validate)

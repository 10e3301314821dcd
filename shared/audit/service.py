"""Recording sensitive actions in `audit_logs`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.audit.models import AuditLog
from shared.auth import Principal


def record_audit(
    session: Session,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditLog:
    """Add an audit entry to the current unit of work (it commits or rolls back with the change)."""
    entry = AuditLog(
        user_id=actor.user_id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        old_value=before,
        new_value=after,
        reason=reason,
        ip_address=actor.ip if actor else None,
        request_id=actor.request_id if actor else None,
    )
    session.add(entry)
    return entry

"""/api/v1/audit-logs: the audit trail of sensitive actions (card 109) (ADMIN by default)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.audit.queries import list_audit_logs
from shared.audit.schemas import AuditLogOut, AuditLogQuery
from shared.auth import require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.users.permissions import Permission

api = APIBlueprint(
    "audit_logs", __name__, url_prefix=f"{API_PREFIX}/audit-logs", abp_tags=[Tag(name="audit")], abp_security=SECURED
)


@api.get("", responses={200: Page[AuditLogOut], **error_responses(401, 403, 422)})
@require_permission(Permission.VIEW_AUDIT_LOGS)
def get_audit_logs(query: AuditLogQuery):
    """Audit entries, newest first, filtered by who, what, which record and when."""
    with session_scope() as session:
        return list_audit_logs(session, query).model_dump(mode="json")

"""Streamed CSV export of conversations (card 106)."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.conversations import export
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users.permissions import Permission

api = APIBlueprint(
    "conversation_export",
    __name__,
    url_prefix=f"{API_PREFIX}/conversations",
    abp_tags=[Tag(name="conversation export")],
    abp_security=SECURED,
)
CSV_RESPONSE = {
    "description": "the CSV file (UTF-8 with BOM), streamed",
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": (
                "\ufeffconversation_id,phone_number,contact_name,status,is_urgent,assigned_to,lead_status,maturity_score,"
                "message_count,created_at,last_message_at\r\n6f1c2b1e-8d4a-4c2e-9a57-0b7e4d1f2a33,5511987654321,Maria,"
                "ACTIVE,false,ana@clinica.com.br,NEW,40,12,2026-03-01T09:00:00-03:00,2026-03-01T09:14:00-03:00\r\n"
            ),
        }
    },
}


@api.get("/export", responses={200: CSV_RESPONSE, **error_responses(401, 403, 422)})
@require_permission(Permission.EXPORT_CONVERSATIONS)
def export_conversations(query: export.ConversationExportQuery):
    """Download the conversations as CSV, with the list's filters and a creation-date range. A USER gets only hers.

    Every matching conversation, oldest first (`page` and `limit` do not apply). Audited with the filters; the
    audit entry's id comes back in `X-Export-ID`.
    """
    actor = current_principal()
    with session_scope() as session:
        export_id = export.audit_export(session, actor, query)
    headers = {
        "Content-Disposition": f'attachment; filename="conversas-{export_id.hex[:8]}.csv"',
        "X-Export-ID": str(export_id),
        "Cache-Control": "no-store",
    }
    return Response(export.export_csv(actor, query), mimetype="text/csv", headers=headers)

"""/api/v1/privacy: LGPD access and erasure for one contact (phone number) (ADMIN by default)."""

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.privacy import service
from shared.privacy.schemas import ContactExport, ContactPath, ErasureOut
from shared.users.permissions import Permission

api = APIBlueprint(
    "privacy", __name__, url_prefix=f"{API_PREFIX}/privacy", abp_tags=[Tag(name="privacy")], abp_security=SECURED
)


@api.get("/contacts/<phone>/export", responses={200: ContactExport, **error_responses(401, 403, 404, 422)})
@require_permission(Permission.MANAGE_PATIENT_DATA)
def export_contact(path: ContactPath):
    """Everything stored about a phone number (any formatting, with or without the ninth digit); audited."""
    with session_scope() as session:
        found = service.export_contact(session, path.phone, current_principal(), service.ChromaMemory())
        return found.model_dump(mode="json")


@api.delete("/contacts/<phone>", responses={200: ErasureOut, **error_responses(401, 403, 404, 422)})
@require_permission(Permission.MANAGE_PATIENT_DATA)
def erase_contact(path: ContactPath):
    """Erase a phone number's conversations, leads, scheduled messages and memory; answers what was erased."""
    erased = service.erase_contact(session_scope, path.phone, current_principal(), service.ChromaMemory())
    return erased.model_dump(mode="json")

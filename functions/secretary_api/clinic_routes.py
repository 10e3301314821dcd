"""/api/v1/clinic/settings: the clinic's zone, hours, holidays, closures, SLA, competitors and cost inputs (ADMIN)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.clinic.schemas import ClinicSettingsOut, ClinicSettingsUpdate
from shared.clinic.service import get_clinic_settings, update_clinic_settings
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users.permissions import Permission

api = APIBlueprint("clinic", __name__, url_prefix=f"{API_PREFIX}/clinic", abp_tags=[Tag(name="clinic")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/settings", responses={200: ClinicSettingsOut, **error_responses(401, 403)})
@require_permission(Permission.MANAGE_CLINIC_SETTINGS)
def get_settings_route():
    """The clinic's settings, as the metrics and the scheduler read them."""
    with session_scope() as session:
        return get_clinic_settings(session).model_dump(mode="json")


@api.put("/settings", responses={200: ClinicSettingsOut, **error_responses(401, 403, 422)})
@require_permission(Permission.MANAGE_CLINIC_SETTINGS)
def put_settings_route(body: ClinicSettingsUpdate):
    """Change the fields sent (the others keep their value); audited with what changed."""
    with session_scope() as session:
        return update_clinic_settings(session, current_principal(), body).model_dump(mode="json")

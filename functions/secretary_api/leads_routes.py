"""/api/v1/leads: the front desk's leads. A USER works on the leads assigned to her; an ADMIN on all."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.leads import service
from shared.leads.schemas import (
    InteractionCreate,
    LeadCreate,
    LeadDetailOut,
    LeadInteractionOut,
    LeadListQuery,
    LeadOut,
    LeadPath,
    LeadUpdate,
)
from shared.pagination import Page
from shared.users.permissions import Permission

api = APIBlueprint(
    "leads", __name__, url_prefix=f"{API_PREFIX}/leads", abp_tags=[Tag(name="leads")], abp_security=SECURED
)


def _out(lead) -> dict:
    return LeadOut.model_validate(lead).model_dump(mode="json")


@api.get("", responses={200: Page[LeadOut], **error_responses(401, 403, 422)})
@require_permission(Permission.READ_LEADS)
def list_leads(query: LeadListQuery):
    """Leads newest first, by status, assignee (ADMIN), source, maturity range and name/phone search."""
    with session_scope() as session:
        return service.list_leads(session, query, current_principal()).model_dump(mode="json")


@api.post("", responses={201: LeadOut, **error_responses(400, 401, 403, 422)})
@require_permission(Permission.WRITE_LEADS)
def create_lead(body: LeadCreate):
    """A lead typed in by the front desk (source MANUAL unless given); a USER's new lead is assigned to her."""
    with session_scope() as session:
        return _out(service.create_lead(session, body, current_principal())), 201


@api.get("/<uuid:lead_id>", responses={200: LeadDetailOut, **error_responses(401, 404)})
@require_permission(Permission.READ_LEADS)
def get_lead(path: LeadPath):
    """The lead with its conversation's summary and its latest 100 interactions, newest first."""
    with session_scope() as session:
        return service.get_lead_detail(session, path.lead_id, current_principal()).model_dump(mode="json")


@api.patch("/<uuid:lead_id>", responses={200: LeadOut, **error_responses(400, 401, 403, 404, 409, 422)})
@require_permission(Permission.WRITE_LEADS)
def update_lead(path: LeadPath, body: LeadUpdate):
    """Change status (following the status machine), notes, name, email or, for an ADMIN, the assignee.

    Each status, assignee or notes change is recorded as an interaction; status and assignee changes are audited.
    """
    with session_scope() as session:
        return _out(service.update_lead(session, path.lead_id, body, current_principal()))


@api.post("/<uuid:lead_id>/interactions", responses={201: LeadInteractionOut, **error_responses(400, 401, 404, 422)})
@require_permission(Permission.WRITE_LEADS)
def add_interaction(path: LeadPath, body: InteractionCreate):
    """Record a note, call or email on the lead's history."""
    with session_scope() as session:
        interaction = service.add_interaction(session, path.lead_id, body, current_principal())
        return LeadInteractionOut.model_validate(interaction).model_dump(mode="json"), 201


@api.delete("/<uuid:lead_id>", responses={204: None, **error_responses(401, 403, 404)})
@require_permission(Permission.DELETE_LEADS)
def delete_lead(path: LeadPath):
    """Soft-delete a lead (audited): it disappears from every route until restored."""
    with session_scope() as session:
        service.delete_lead(session, path.lead_id, current_principal())
    return "", 204


@api.post("/<uuid:lead_id>/restore", responses={200: LeadOut, **error_responses(401, 403, 404, 409)})
@require_permission(Permission.DELETE_LEADS)
def restore_lead(path: LeadPath):
    """Bring back a soft-deleted lead (audited); 409 if it is not deleted."""
    with session_scope() as session:
        return _out(service.restore_lead(session, path.lead_id, current_principal()))

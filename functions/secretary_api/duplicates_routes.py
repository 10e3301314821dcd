"""Duplicate leads found by phone number, and their merge (card 124).

Registered before leads_routes: its static paths (/leads/duplicates, /leads/merge) sit beside /leads/<uuid>.
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.leads import duplicates, merge
from shared.leads.schemas import DuplicateGroupOut, LeadMerge, LeadMergeOut
from shared.pagination import Page, PageQuery
from shared.users.permissions import Permission

api = APIBlueprint(
    "lead_duplicates",
    __name__,
    url_prefix=f"{API_PREFIX}/leads",
    abp_tags=[Tag(name="lead duplicates")],
    abp_security=SECURED,
)


@api.get("/duplicates", responses={200: Page[DuplicateGroupOut], **error_responses(401, 403, 422)})
@require_permission(Permission.READ_LEADS)
def list_duplicate_leads(query: PageQuery):
    """Live leads sharing a phone number however typed (ninth digit aside), in groups; a USER's among her own."""
    with session_scope() as session:
        return duplicates.list_duplicate_groups(session, query, current_principal()).model_dump(mode="json")


@api.post("/merge", responses={200: LeadMergeOut, **error_responses(400, 401, 403, 404, 409, 422)})
@require_permission(Permission.MERGE_LEADS)
def merge_leads(body: LeadMerge):
    """Merge the source lead into the target (same number, else 409); the source is soft-deleted, audited."""
    with session_scope() as session:
        return merge.merge_leads(session, body, current_principal()).model_dump(mode="json")

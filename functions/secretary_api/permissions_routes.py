"""Permissions per role (card 110): the catalogue, and what each role may do. Changing them needs MANAGE_USERS."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users import grants
from shared.users.permissions import Permission
from shared.users.schemas import PermissionCatalogueOut, RolePath, RolePermissionsOut, RolePermissionsUpdate

api = APIBlueprint(
    "permissions", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="permissions")], abp_security=SECURED
)


@api.get("/permissions", responses={200: PermissionCatalogueOut, **error_responses(401, 403)})
@require_permission(Permission.MANAGE_USERS)
def list_permissions():
    """Every permission, what it allows, and the roles that hold it by default."""
    return [item.model_dump(mode="json") for item in grants.permission_catalogue()]


@api.get("/roles/<role>/permissions", responses={200: RolePermissionsOut, **error_responses(401, 403, 422)})
@require_permission(Permission.MANAGE_USERS)
def get_role_permissions(path: RolePath):
    """What the role may do now, and how that differs from its defaults."""
    with session_scope() as session:
        return grants.describe_role(session, path.role).model_dump(mode="json")


@api.put("/roles/<role>/permissions", responses={200: RolePermissionsOut, **error_responses(401, 403, 409, 422)})
@require_permission(Permission.MANAGE_USERS)
def set_role_permissions(path: RolePath, body: RolePermissionsUpdate):
    """Set exactly what the role may do; takes effect on the next request. ADMIN's own is 409; audited."""
    with session_scope() as session:
        return grants.set_role_permissions(session, path.role, body.permissions, current_principal()).model_dump(
            mode="json"
        )

"""/api/v1/users: administration of accounts (ADMIN by default)."""

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.users import service
from shared.users.permissions import Permission
from shared.users.schemas import UserCreate, UserListQuery, UserOut, UserPath, UserUpdate

api = APIBlueprint(
    "users", __name__, url_prefix=f"{API_PREFIX}/users", abp_tags=[Tag(name="users")], abp_security=SECURED
)


def _out(user) -> dict:
    return UserOut.model_validate(user).model_dump(mode="json")


@api.post("", responses={201: UserOut, **error_responses(400, 401, 403, 409, 422)})
@require_permission(Permission.MANAGE_USERS)
def create_user(body: UserCreate):
    """Create a secretary (USER) or another ADMIN."""
    with session_scope() as session:
        return _out(service.create_user(session, body, current_principal())), 201


@api.get("", responses={200: Page[UserOut], **error_responses(401, 403, 422)})
@require_permission(Permission.MANAGE_USERS)
def list_users(query: UserListQuery):
    """All users, newest first, filtered by role and status."""
    with session_scope() as session:
        return service.list_users(session, query).model_dump(mode="json")


@api.get("/<uuid:user_id>", responses={200: UserOut, **error_responses(401, 403, 404)})
@require_permission(Permission.MANAGE_USERS)
def get_user(path: UserPath):
    with session_scope() as session:
        return _out(service.get_user(session, path.user_id))


@api.patch("/<uuid:user_id>", responses={200: UserOut, **error_responses(400, 401, 403, 404, 409, 422)})
@require_permission(Permission.MANAGE_USERS)
def update_user(path: UserPath, body: UserUpdate):
    """Change name, role, status or password. The last active ADMIN cannot be demoted or deactivated."""
    with session_scope() as session:
        return _out(service.update_user(session, path.user_id, body, current_principal()))


@api.post("/<uuid:user_id>/deactivate", responses={200: UserOut, **error_responses(401, 403, 404, 409)})
@require_permission(Permission.MANAGE_USERS)
def deactivate_user(path: UserPath):
    """Deactivate an account and end all its sessions (users are never deleted: history points at them)."""
    with session_scope() as session:
        return _out(service.deactivate_user(session, path.user_id, current_principal()))

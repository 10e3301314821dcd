"""An ADMIN changes what a role may do (card 110); every change is audited with before and after."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.errors import Conflict, FieldError, ValidationFailed
from shared.users.models import Role, RolePermission
from shared.users.permissions import DEFAULT_GRANTS, DESCRIPTIONS, Permission, role_permissions
from shared.users.schemas import PermissionOut, RolePermissionsOut

ADMIN_ONLY = frozenset({Permission.MANAGE_USERS})  # whoever holds it could make herself ADMIN


def permission_catalogue() -> list[PermissionOut]:
    """Every permission with what it allows and the roles that hold it by default."""
    return [
        PermissionOut(
            name=permission,
            description=DESCRIPTIONS[permission],
            default_roles=[role for role in Role if permission in DEFAULT_GRANTS[role]],
        )
        for permission in Permission
    ]


def describe_role(session: Session, role: Role) -> RolePermissionsOut:
    """The role's permissions now, and which of them differ from the defaults."""
    held = role_permissions(session, role)
    return RolePermissionsOut(
        role=role,
        permissions=sorted(held),
        added=sorted(held - DEFAULT_GRANTS[role]),
        removed=sorted(DEFAULT_GRANTS[role] - held),
    )


def set_role_permissions(session: Session, role: Role, wanted: set[Permission], actor: Principal) -> RolePermissionsOut:
    """Make `wanted` exactly what `role` may do; only the differences from the defaults are stored."""
    if role is Role.ADMIN:
        raise Conflict("ADMIN always holds every permission")
    if forbidden := sorted(wanted & ADMIN_ONLY):
        raise ValidationFailed(
            [FieldError("permissions", f"{name} cannot be given to {role.value}") for name in forbidden],
            "Some permissions stay with ADMIN",
        )
    before = describe_role(session, role)
    defaults = DEFAULT_GRANTS[role]
    session.execute(delete(RolePermission).where(RolePermission.role == role))
    changes = [(permission, True) for permission in wanted - defaults]
    changes += [(permission, False) for permission in defaults - wanted]
    session.add_all(
        RolePermission(role=role, permission=permission.value, granted=granted, changed_by_user_id=actor.user_id)
        for permission, granted in changes
    )
    session.flush()
    after = describe_role(session, role)
    record_audit(
        session, actor, "role.permissions_changed", "role", role.value,
        before={"permissions": before.permissions}, after={"permissions": after.permissions},
    )  # fmt: skip
    return after

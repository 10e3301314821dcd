"""Permissions per role (card 110), finer than the two roles.

The catalogue is the `Permission` enum and each role's defaults are `DEFAULT_GRANTS`; the `role_permissions`
table holds only what an ADMIN changed (a grant or a revocation of one permission for one role), so a new
permission shipped in code reaches every clinic with its default, and an empty table means "the defaults".
ADMIN holds every permission and cannot lose one: a clinic can never lock its owner out.
"""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.users.models import Role, RolePermission


class Permission(enum.StrEnum):
    READ_CONVERSATIONS = "READ_CONVERSATIONS"
    WRITE_CONVERSATIONS = "WRITE_CONVERSATIONS"
    SEND_MESSAGES = "SEND_MESSAGES"
    DELETE_CONVERSATIONS = "DELETE_CONVERSATIONS"
    EXPORT_CONVERSATIONS = "EXPORT_CONVERSATIONS"
    READ_LEADS = "READ_LEADS"
    WRITE_LEADS = "WRITE_LEADS"
    DELETE_LEADS = "DELETE_LEADS"
    MERGE_LEADS = "MERGE_LEADS"
    SCHEDULE_MESSAGES = "SCHEDULE_MESSAGES"
    USE_TEMPLATES = "USE_TEMPLATES"
    MANAGE_TEMPLATES = "MANAGE_TEMPLATES"
    MANAGE_TAGS = "MANAGE_TAGS"
    MANAGE_USERS = "MANAGE_USERS"
    MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS"
    VIEW_AUDIT_LOGS = "VIEW_AUDIT_LOGS"
    VIEW_AI_STATS = "VIEW_AI_STATS"
    VIEW_FEEDBACK = "VIEW_FEEDBACK"
    MANAGE_PATIENT_DATA = "MANAGE_PATIENT_DATA"
    MANAGE_QUEUE = "MANAGE_QUEUE"
    MANAGE_WHATSAPP = "MANAGE_WHATSAPP"
    VIEW_METRICS = "VIEW_METRICS"
    VIEW_BUSINESS_METRICS = "VIEW_BUSINESS_METRICS"
    MANAGE_CLINIC_SETTINGS = "MANAGE_CLINIC_SETTINGS"


DESCRIPTIONS: dict[Permission, str] = {
    Permission.READ_CONVERSATIONS: "See conversations, their messages, notes, tags and history",
    Permission.WRITE_CONVERSATIONS: "Change a conversation's status, claim it, tag it, add notes, resume the bot",
    Permission.SEND_MESSAGES: "Reply to a patient on WhatsApp from the API",
    Permission.DELETE_CONVERSATIONS: "Delete notes and conversation data",
    Permission.EXPORT_CONVERSATIONS: "Download conversations as CSV",
    Permission.READ_LEADS: "See leads, their interactions, journey and history",
    Permission.WRITE_LEADS: "Create leads, change their status and assignment, add interactions",
    Permission.DELETE_LEADS: "Soft-delete and restore leads",
    Permission.MERGE_LEADS: "Merge duplicate leads",
    Permission.SCHEDULE_MESSAGES: "Schedule and cancel messages",
    Permission.USE_TEMPLATES: "See and render templates, scripted messages and quick replies",
    Permission.MANAGE_TEMPLATES: "Create, change and delete templates, scripted messages and quick replies",
    Permission.MANAGE_TAGS: "Create, rename and delete tags",
    Permission.MANAGE_USERS: "Create users, change roles and permissions, deactivate users",
    Permission.MANAGE_WEBHOOKS: "Register outbound webhooks and see their deliveries",
    Permission.VIEW_AUDIT_LOGS: "Read the audit log",
    Permission.VIEW_AI_STATS: "See the assistant's usage and cost",
    Permission.VIEW_FEEDBACK: "See patients' feedback scores",
    Permission.MANAGE_PATIENT_DATA: "Export and erase everything about a phone number (LGPD)",
    Permission.MANAGE_QUEUE: "See and retry failed tasks",
    Permission.MANAGE_WHATSAPP: "Manage the WhatsApp session",
    Permission.VIEW_METRICS: "See the dashboard and metrics (a USER: of her own conversations and leads)",
    Permission.VIEW_BUSINESS_METRICS: "See the clinic's money, ranking, forecast and anomaly figures",
    Permission.MANAGE_CLINIC_SETTINGS: "Change the clinic's time zone, hours, holidays, SLA and cost inputs",
}

DEFAULT_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.USER: frozenset({
        Permission.READ_CONVERSATIONS,
        Permission.WRITE_CONVERSATIONS,
        Permission.SEND_MESSAGES,
        Permission.EXPORT_CONVERSATIONS,
        Permission.READ_LEADS,
        Permission.WRITE_LEADS,
        Permission.SCHEDULE_MESSAGES,
        Permission.USE_TEMPLATES,
        Permission.VIEW_METRICS,
    }),
}  # fmt: skip


def role_permissions(session: Session, role: Role) -> frozenset[Permission]:
    """What `role` may do now: its defaults, with an ADMIN's changes applied (ADMIN always holds all)."""
    if role is Role.ADMIN:
        return DEFAULT_GRANTS[Role.ADMIN]
    granted = set(DEFAULT_GRANTS[role])
    changes = session.execute(
        select(RolePermission.permission, RolePermission.granted).where(RolePermission.role == role)
    ).all()
    for name, is_granted in changes:
        if name in Permission.__members__:
            (granted.add if is_granted else granted.discard)(Permission(name))
    return frozenset(granted)


def has_permission(session: Session, role: Role, permission: Permission) -> bool:
    return permission in role_permissions(session, role)

"""Leads of one phone number, however it was typed (card 124): listing them, and telling the front desk."""

from __future__ import annotations

import math

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.leads.models import Lead
from shared.leads.phone import phone_key
from shared.leads.schemas import DuplicateGroupOut, LeadOut
from shared.notifications.models import Notification, NotificationType
from shared.pagination import Page, PageQuery
from shared.users.models import Role, User, UserStatus


def _live(actor: Principal | None) -> list[ColumnElement[bool]]:
    conditions = [Lead.deleted_at.is_(None), Lead.phone_key.is_not(None)]
    if actor is not None and not actor.is_admin:
        conditions.append(Lead.assigned_to_user_id == actor.user_id)
    return conditions


def list_duplicate_groups(session: Session, query: PageQuery, actor: Principal) -> Page[DuplicateGroupOut]:
    """Groups of live leads sharing a phone key, the most recently added first (a USER: among her own leads)."""
    live = _live(actor)
    groups = (
        select(Lead.phone_key)
        .where(*live)
        .group_by(Lead.phone_key)
        .having(func.count() > 1)
        .order_by(func.max(Lead.created_at).desc(), Lead.phone_key)
    )
    total = session.scalar(select(func.count()).select_from(groups.order_by(None).subquery())) or 0
    keys = list(session.scalars(groups.offset((query.page - 1) * query.limit).limit(query.limit)))
    leads = session.scalars(select(Lead).where(*live, Lead.phone_key.in_(keys)).order_by(Lead.created_at, Lead.id))
    members: dict[str, list[LeadOut]] = {key: [] for key in keys}
    for lead in leads:
        members[lead.phone_key].append(LeadOut.model_validate(lead))
    return Page[DuplicateGroupOut](
        items=[DuplicateGroupOut(phone_key=key, leads=members[key]) for key in keys],
        total=total,
        page=query.page,
        limit=query.limit,
        pages=math.ceil(total / query.limit) if total else 0,
    )


def notify_duplicates(session: Session, lead: Lead) -> int:
    """When a new lead's number is already another live lead's, tell its secretary (or the ADMINs), once."""
    key = phone_key(lead.phone_number)
    others = session.scalars(select(Lead).where(*_live(None), Lead.phone_key == key, Lead.id != lead.id)).all()
    if key is None or not others:
        return 0
    recipients = {other.assigned_to_user_id for other in others if other.assigned_to_user_id} or set(
        session.scalars(select(User.id).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE))
    )
    who = lead.name or lead.phone_number
    message = (
        f"O telefone {lead.phone_number} já aparece em {len(others)} outro(s) lead(s). "
        "Confira em Leads duplicados e mescle se for a mesma pessoa."
    )
    session.add_all(
        Notification(
            user_id=user_id,
            type=NotificationType.SYSTEM,
            title=f"Possível lead duplicado: {who}"[:200],
            message=message,
            lead_id=lead.id,
        )
        for user_id in recipients
    )
    return len(recipients)

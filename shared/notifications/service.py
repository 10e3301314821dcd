"""In-app notifications for secretaries and admins (card 099): creating them, and each user reading her own."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import NotFound
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.notifications.schemas import NotificationOut, NotificationPage, NotificationQuery
from shared.pagination import paginate
from shared.users.models import Role, User, UserStatus


def notify_admins(
    session: Session,
    title: str,
    message: str,
    *,
    type_: NotificationType = NotificationType.SYSTEM,
    priority: NotificationPriority = NotificationPriority.HIGH,
) -> int:
    """Add one notification per active ADMIN to the current unit of work; returns how many."""
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)).all()
    session.add_all(
        Notification(user_id=admin_id, type=type_, priority=priority, title=title, message=message)
        for admin_id in admins
    )
    return len(admins)


def list_notifications(session: Session, user_id: uuid.UUID, query: NotificationQuery) -> NotificationPage:
    """The user's own notifications, unread first, then newest first, with the count of all unread ones."""
    mine = Notification.user_id == user_id
    statement = select(Notification).where(mine)
    if query.unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    if query.type:
        statement = statement.where(Notification.type == query.type)
    if query.priority:
        statement = statement.where(Notification.priority == query.priority)
    statement = statement.order_by(
        Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc()
    )
    page = paginate(session, statement, query, NotificationOut.model_validate)
    unread = session.scalar(select(func.count()).select_from(Notification).where(mine, Notification.read_at.is_(None)))
    return NotificationPage(**page.model_dump(exclude={"items"}), items=page.items, unread=unread or 0)


def mark_read(session: Session, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's notifications read; marking it again keeps the first time. 404 if not hers."""
    notification = session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .with_for_update()
    )
    if notification is None:
        raise NotFound("Notification not found")
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


def mark_all_read(session: Session, user_id: uuid.UUID) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount

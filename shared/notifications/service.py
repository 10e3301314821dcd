"""Creating in-app notifications for secretaries and admins (card 099)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.notifications.models import Notification, NotificationPriority, NotificationType
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

"""Competitors the patients name (card 153): one row per message and name, and the ADMINs told once per chat.

A competitor of the clinic settings is named when its name appears in a patient's message as whole words, accents
and case aside ("Clínica Sorriso" is in "fui na clinica sorriso!", "Sorriso" alone is not). The first mention of
a competitor in a conversation notifies every active ADMIN; later mentions are recorded without telling them again.
Inserts skip rows already there (unique message and name), so a retried turn writes and notifies nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.assistant.batch import Batch
from shared.assistant.models import CompetitorMention
from shared.clinic.service import get_clinic_settings
from shared.conversations.models import Conversation
from shared.knowledge.passages import fold
from shared.leads.models import Lead
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.users.models import Role, User, UserStatus

# There is no competitor notification type; SYSTEM is the nearest (a new enum value needs a migration).
NOTIFICATION_TYPE = NotificationType.SYSTEM
EXCERPT = 200


def competitors_named(text: str, competitors: list[str]) -> list[str]:
    """The competitors `text` names, as the settings spell them."""
    message = f" {fold(text)} "
    return [name for name in competitors if (folded := fold(name)) and f" {folded} " in message]


def record_mentions(session: Session, conversation: Conversation, batch: Batch) -> list[str]:
    """Store the burst's mentions; notify the ADMINs of each competitor new to this conversation. Returns those."""
    competitors = get_clinic_settings(session).competitors
    rows = [
        (message.id, name, message.created_at, message.body)
        for message in batch.messages
        if message.body
        for name in competitors_named(message.body, competitors)
    ]
    if not rows:
        return []
    named_before = select(CompetitorMention.competitor).where(CompetitorMention.conversation_id == conversation.id)
    known = set(session.scalars(named_before))
    stored = {name for message_id, name, at, _ in rows if _insert(session, conversation.id, message_id, name, at)}
    new = [name for name in dict.fromkeys(name for _, name, _, _ in rows) if name in stored and name not in known]
    for name in new:
        body = next(text for _, mentioned, _, text in rows if mentioned == name)
        _notify_admins(session, conversation, name, body)
    return new


def _insert(session: Session, conversation_id: uuid.UUID, message_id: uuid.UUID, name: str, at: datetime) -> bool:
    inserted = session.scalar(
        insert(CompetitorMention)
        .values(id=uuid.uuid4(), conversation_id=conversation_id, message_id=message_id, competitor=name, created_at=at)
        .on_conflict_do_nothing(constraint="uq_competitor_mentions_message_competitor")
        .returning(CompetitorMention.id)
    )
    return inserted is not None


def _notify_admins(session: Session, conversation: Conversation, competitor: str, body: str) -> None:
    admins = session.scalars(select(User.id).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE))
    lead_id = session.scalar(select(Lead.id).where(Lead.conversation_id == conversation.id, Lead.deleted_at.is_(None)))
    who = conversation.name or conversation.phone_number or "Um paciente"
    excerpt = body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…"
    session.add_all(
        Notification(
            user_id=admin_id,
            type=NOTIFICATION_TYPE,
            priority=NotificationPriority.NORMAL,
            title=f"Concorrente citado: {competitor}",
            message=f"{who} mencionou {competitor}: “{excerpt}”",
            conversation_id=conversation.id,
            lead_id=lead_id,
        )
        for admin_id in admins
    )

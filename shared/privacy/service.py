"""LGPD data-subject rights for one contact (phone number): export everything stored, or erase it.

A contact is found by every spelling of the number (formatting and Brazil's ninth digit), through its
conversations (phone or WhatsApp chat id), its leads, and scheduled messages addressed to it. The conversation
memory lives in Chroma, outside the database transaction: it is read with the export and erased after the
database commit, and a failure there is reported in the answer instead of failing the whole request.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from shared.assistant.models import LLMInteraction
from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import Conversation, ConversationContext, ConversationMessage
from shared.db import utcnow
from shared.errors import NotFound
from shared.feedback.models import Feedback
from shared.leads.models import Lead, LeadInteraction
from shared.notifications.models import Notification
from shared.privacy import schemas
from shared.scheduling.models import ScheduledMessage
from shared.whatsapp.phone import list_ninth_digit_variants, normalize_phone

log = logging.getLogger(__name__)
UNKNOWN_CONTACT = "Nothing is stored about this phone number"


class ConversationMemory(Protocol):
    def entries(self, conversation_id: uuid.UUID) -> list[dict[str, Any]]: ...
    def forget(self, conversation_id: uuid.UUID) -> int: ...


class ChromaMemory:
    """The conversation memory of shared/knowledge/memory.py (chromadb is imported on first use)."""

    def entries(self, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
        from shared.config import get_settings
        from shared.knowledge.chroma import open_collection

        settings = get_settings()
        found = open_collection(settings, settings.chroma_collection_name, create=True).get(
            where={"conversation_id": str(conversation_id)}, include=["documents", "metadatas"]
        )
        return [
            {"id": entry_id, "text": text, "role": (metadata or {}).get("role")}
            for entry_id, text, metadata in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]

    def forget(self, conversation_id: uuid.UUID) -> int:
        from shared.knowledge.memory import forget

        return forget(conversation_id)


@dataclass
class Contact:
    phone: str
    variants: list[str]
    conversations: list[Conversation]
    leads: list[Lead]
    scheduled: list[ScheduledMessage]

    @property
    def conversation_ids(self) -> list[uuid.UUID]:
        return [conversation.id for conversation in self.conversations]

    @property
    def lead_ids(self) -> list[uuid.UUID]:
        return [lead.id for lead in self.leads]


def phone_hash(phone: str) -> str:
    """What the audit log keeps instead of an erased number: sha256 of its digits (64 hex characters)."""
    return hashlib.sha256(normalize_phone(phone).encode()).hexdigest()


def find_contact(session: Session, phone: str) -> Contact:
    """Every row that belongs to this number, under any of its spellings; NotFound when there is none."""
    variants = list_ninth_digit_variants(phone)
    conversations = list(
        session.scalars(
            select(Conversation)
            .where(
                or_(Conversation.phone_number.in_(variants), Conversation.chat_id.in_([f"{v}@c.us" for v in variants]))
            )
            .options(selectinload(Conversation.messages), selectinload(Conversation.context))
            .order_by(Conversation.created_at)
        )
    )
    conversation_ids = [conversation.id for conversation in conversations]
    leads = list(
        session.scalars(
            select(Lead)
            .where(or_(Lead.phone_number.in_(variants), Lead.conversation_id.in_(conversation_ids)))
            .order_by(Lead.created_at)
        )
    )
    scheduled = list(
        session.scalars(
            select(ScheduledMessage)
            .where(or_(ScheduledMessage.phone.in_(variants), ScheduledMessage.conversation_id.in_(conversation_ids)))
            .order_by(ScheduledMessage.scheduled_at)
        )
    )
    if not (conversations or leads or scheduled):
        raise NotFound(UNKNOWN_CONTACT)
    # One canonical spelling (with the ninth digit, when it has one), so audits of the same person always match.
    return Contact(max(variants, key=len), variants, conversations, leads, scheduled)


def _rows(session: Session, model: Any, *conditions: Any) -> list[Any]:
    return list(session.scalars(select(model).where(or_(*conditions)).order_by(model.created_at)))


def _read_memory(contact: Contact, memory: ConversationMemory) -> tuple[dict[uuid.UUID, list], str | None]:
    try:
        return {cid: memory.entries(cid) for cid in contact.conversation_ids}, None
    except Exception as exc:  # Chroma down or misconfigured: the database part still answers
        log.exception("privacy export: conversation memory unreadable")
        return {}, f"conversation memory unavailable: {type(exc).__name__}"


def _conversation_out(conversation: Conversation, memory: list, feedback: list) -> schemas.ConversationExport:
    out = schemas.ConversationExport.model_validate(conversation)
    return out.model_copy(
        update={
            "memory": [schemas.MemoryEntryExport(**entry) for entry in memory],
            "feedback": [schemas.FeedbackExport.model_validate(item) for item in feedback],
        }
    )


def export_contact(session: Session, phone: str, actor: Principal, memory: ConversationMemory) -> schemas.ContactExport:
    """Everything stored about this number (LGPD art. 18 II: access), audited."""
    contact = find_contact(session, phone)
    cids, lids = contact.conversation_ids, contact.lead_ids
    interactions = _rows(session, LeadInteraction, LeadInteraction.lead_id.in_(lids))
    feedback = _rows(session, Feedback, Feedback.conversation_id.in_(cids))
    notifications = _rows(session, Notification, Notification.conversation_id.in_(cids), Notification.lead_id.in_(lids))
    llm = _rows(session, LLMInteraction, LLMInteraction.conversation_id.in_(cids))
    memories, memory_error = _read_memory(contact, memory)

    leads = [
        schemas.LeadExport.model_validate(lead).model_copy(
            update={
                "interactions": [
                    schemas.InteractionExport.model_validate(i) for i in interactions if i.lead_id == lead.id
                ]
            }
        )
        for lead in contact.leads
    ]
    conversations = [
        _conversation_out(c, memories.get(c.id, []), [f for f in feedback if f.conversation_id == c.id])
        for c in contact.conversations
    ]
    record_audit(session, actor, "privacy.export", "contact", contact.phone)
    return schemas.ContactExport(
        phone=contact.phone,
        phone_variants=contact.variants,
        exported_at=utcnow(),
        conversations=conversations,
        leads=leads,
        notifications=[schemas.NotificationExport.model_validate(n) for n in notifications],
        scheduled_messages=[schemas.ScheduledMessageExport.model_validate(s) for s in contact.scheduled],
        llm_interactions=[schemas.LLMInteractionExport.model_validate(i) for i in llm],
        memory_error=memory_error,
    )


def _count(session: Session, model: Any, *conditions: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(or_(*conditions))) or 0


def erase_contact_rows(session: Session, phone: str, actor: Principal) -> tuple[list[uuid.UUID], schemas.ErasureCounts]:
    """Delete every row of this number in the caller's transaction (LGPD art. 18 VI); the ids whose memory to erase."""
    contact = find_contact(session, phone)
    cids, lids = contact.conversation_ids, contact.lead_ids
    counts = schemas.ErasureCounts(
        conversations=len(cids),
        messages=_count(session, ConversationMessage, ConversationMessage.conversation_id.in_(cids)),
        contexts=_count(session, ConversationContext, ConversationContext.conversation_id.in_(cids)),
        leads=len(lids),
        lead_interactions=_count(session, LeadInteraction, LeadInteraction.lead_id.in_(lids)),
        notifications=_count(
            session, Notification, Notification.conversation_id.in_(cids), Notification.lead_id.in_(lids)
        ),
        scheduled_messages=len(contact.scheduled),
        llm_interactions=_count(session, LLMInteraction, LLMInteraction.conversation_id.in_(cids)),
        feedback=_count(session, Feedback, Feedback.conversation_id.in_(cids)),
        memory_entries=0,
    )
    session.expunge_all()  # bulk deletes below; nothing loaded may be flushed back afterwards
    # Leads first: their conversation FK is SET NULL, so they would survive the conversations. Every other
    # table (messages, contexts, interactions, notifications, llm_interactions, feedback) cascades in Postgres.
    session.execute(delete(Lead).where(Lead.id.in_(lids)))
    session.execute(delete(ScheduledMessage).where(ScheduledMessage.id.in_([s.id for s in contact.scheduled])))
    session.execute(delete(Conversation).where(Conversation.id.in_(cids)))
    record_audit(session, actor, "privacy.erase", "contact", phone_hash(contact.phone), after=counts.model_dump())
    return cids, counts


def forget_memories(conversation_ids: list[uuid.UUID], memory: ConversationMemory) -> tuple[int, list[str]]:
    """Erase the memory vectors of the erased conversations; failures are logged and returned, never raised."""
    erased, failed = 0, []
    for conversation_id in conversation_ids:
        try:
            erased += memory.forget(conversation_id)
        except Exception:  # the rows are gone already; say which memory is left to erase
            log.exception("privacy erase: memory of conversation %s not erased", conversation_id)
            failed.append(str(conversation_id))
    return erased, failed


def erase_contact(
    session_scope: Callable[[], Any], phone: str, actor: Principal, memory: ConversationMemory
) -> schemas.ErasureOut:
    """Erase the contact in one database transaction, then its conversation memory."""
    with session_scope() as session:
        conversation_ids, counts = erase_contact_rows(session, phone, actor)
    erased, failed = forget_memories(conversation_ids, memory)
    return schemas.ErasureOut(erased=counts.model_copy(update={"memory_entries": erased}), memory_errors=failed)

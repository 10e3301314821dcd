"""LGPD (access and erasure) for one contact, by phone number, for ADMIN only."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from shared.assistant.models import LLMInteraction, LLMProvider
from shared.audit.models import AuditLog
from shared.conversations.models import (
    Conversation,
    ConversationContext,
    ConversationMessage,
    MessageDirection,
    SenderKind,
)
from shared.db import session_scope, utcnow
from shared.feedback.models import Feedback
from shared.knowledge.memory import remember
from shared.leads.models import InteractionType, Lead, LeadInteraction
from shared.notifications.models import Notification, NotificationType
from shared.scheduling.models import ScheduledMessage
from shared.users.models import Role
from tests.conftest import bearer

PHONE = "5511987654321"  # stored with the ninth digit
OLD_SPELLING = "+55 (11) 8765-4321"  # the same mobile without it, formatted
URL = "/api/v1/privacy/contacts/{}"


def seed_contact(admin_id, *, with_memory: bool = False):
    """A conversation with messages, facts, a lead with a note, a notification, a scheduled message, an LLM call."""
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{PHONE}@c.us", phone_number=PHONE, name="Maria")
        session.add(conversation)
        session.flush()
        lead = Lead(conversation_id=conversation.id, phone_number=PHONE, name="Maria Silva")
        session.add(lead)
        session.flush()
        session.add_all([
            ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                sender_kind=SenderKind.PATIENT, body="Tenho uma mancha no rosto"),
            ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.OUTBOUND,
                                sender_kind=SenderKind.BOT, body="Posso ajudar a marcar uma avaliação"),
            ConversationContext(conversation_id=conversation.id, patient_name="Maria", facts={"idade": 34}),
            LeadInteraction(lead_id=lead.id, interaction_type=InteractionType.NOTE, notes="Ligar à tarde"),
            Notification(user_id=admin_id, type=NotificationType.NEW_LEAD, title="Novo lead", message="Maria",
                         lead_id=lead.id),
            ScheduledMessage(user_id=admin_id, phone=PHONE, content="Lembrete da consulta", scheduled_at=utcnow()),
            LLMInteraction(conversation_id=conversation.id, provider=LLMProvider.OFFLINE, model_name="offline",
                           prompt_version="v1", latency_ms=5, prompt="Paciente: Tenho uma mancha no rosto"),
            Feedback(conversation_id=conversation.id, nonce="ab" * 12, score=9),
        ])  # fmt: skip
        conversation_id = conversation.id
    if with_memory:
        remember(conversation_id, "m1", "Tenho uma mancha no rosto", "patient")
    return conversation_id


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(make_user, login):
    user = make_user(Role.ADMIN)
    return user, bearer(login(user)["access_token"])


def test_the_export_holds_the_messages_the_lead_and_everything_else(secretary_api, admin):
    user, headers = admin
    conversation_id = seed_contact(user.id)

    answer = secretary_api.get(URL.format(PHONE) + "/export", headers=headers)

    assert answer.status_code == 200, answer.json
    body = answer.json
    (conversation,) = body["conversations"]
    assert conversation["id"] == str(conversation_id)
    assert [m["body"] for m in conversation["messages"]] == [
        "Tenho uma mancha no rosto",
        "Posso ajudar a marcar uma avaliação",
    ]
    assert conversation["context"]["facts"] == {"idade": 34}
    assert conversation["feedback"][0]["score"] == 9
    (lead,) = body["leads"]
    assert lead["name"] == "Maria Silva" and lead["interactions"][0]["notes"] == "Ligar à tarde"
    assert [n["title"] for n in body["notifications"]] == ["Novo lead"]
    assert [s["content"] for s in body["scheduled_messages"]] == ["Lembrete da consulta"]
    assert "mancha" in body["llm_interactions"][0]["prompt"]
    with session_scope() as session:
        (audit,) = session.scalars(select(AuditLog).where(AuditLog.action == "privacy.export"))
        assert (audit.user_id, audit.entity_type, audit.entity_id) == (user.id, "contact", PHONE)


def test_the_other_ninth_digit_spelling_finds_the_same_contact(secretary_api, admin):
    user, headers = admin
    seed_contact(user.id)

    answer = secretary_api.get(URL.format(OLD_SPELLING) + "/export", headers=headers)

    assert answer.status_code == 200, answer.json
    assert len(answer.json["conversations"]) == 1 and len(answer.json["leads"]) == 1
    assert answer.json["phone"] == PHONE and PHONE in answer.json["phone_variants"]


def test_erasure_removes_everything_and_a_second_erasure_is_404(secretary_api, admin):
    user, headers = admin
    conversation_id = seed_contact(user.id, with_memory=True)
    export = secretary_api.get(URL.format(PHONE) + "/export", headers=headers)
    assert export.json["conversations"][0]["memory"][0]["text"] == "Tenho uma mancha no rosto"

    erased = secretary_api.delete(URL.format(OLD_SPELLING), headers=headers)

    assert erased.status_code == 200, erased.json
    assert erased.json == {
        "erased": {
            "conversations": 1, "messages": 2, "contexts": 1, "leads": 1, "lead_interactions": 1,
            "notifications": 1, "scheduled_messages": 1, "llm_interactions": 1, "feedback": 1, "memory_entries": 1,
        },
        "memory_errors": [],
    }  # fmt: skip
    for model in (Conversation, ConversationMessage, ConversationContext, Lead, LeadInteraction, Notification,
                  ScheduledMessage, LLMInteraction, Feedback):  # fmt: skip
        assert count(model) == 0, model
    from shared.privacy.service import ChromaMemory

    assert ChromaMemory().entries(conversation_id) == []
    with session_scope() as session:
        (audit,) = session.scalars(select(AuditLog).where(AuditLog.action == "privacy.erase"))
        assert audit.entity_id == hashlib.sha256(PHONE.encode()).hexdigest()
        assert audit.new_value["messages"] == 2
        assert PHONE not in str(audit.new_value) and "mancha" not in str(audit.new_value)
    assert secretary_api.delete(URL.format(PHONE), headers=headers).status_code == 404
    assert secretary_api.get(URL.format(PHONE) + "/export", headers=headers).status_code == 404


def test_other_contacts_are_left_alone(secretary_api, admin):
    user, headers = admin
    seed_contact(user.id)
    with session_scope() as session:
        session.add(Conversation(chat_id="5521912345678@c.us", phone_number="5521912345678"))
        session.add(Lead(phone_number="5521912345678"))

    assert secretary_api.delete(URL.format(PHONE), headers=headers).status_code == 200
    assert (count(Conversation), count(Lead)) == (1, 1)


def test_a_lead_alone_or_a_scheduled_message_alone_is_a_contact(secretary_api, admin):
    user, headers = admin
    with session_scope() as session:
        session.add(Lead(phone_number="5531998887777", name="Só lead"))
        session.add(ScheduledMessage(user_id=user.id, phone="5531911112222", content="Oi", scheduled_at=utcnow()))

    lead_only = secretary_api.get(URL.format("5531998887777") + "/export", headers=headers)
    assert lead_only.status_code == 200 and lead_only.json["conversations"] == []
    assert secretary_api.delete(URL.format("5531911112222"), headers=headers).json["erased"]["scheduled_messages"] == 1


def test_an_unknown_or_malformed_number_is_404_or_422(secretary_api, admin):
    _, headers = admin
    assert secretary_api.get(URL.format("5599911112222") + "/export", headers=headers).status_code == 404
    assert secretary_api.delete(URL.format("5599911112222"), headers=headers).status_code == 404
    assert secretary_api.get(URL.format("abc") + "/export", headers=headers).status_code == 422
    assert secretary_api.delete(URL.format("123"), headers=headers).status_code == 422


def test_a_secretary_gets_403_and_nobody_gets_in_without_a_token(secretary_api, admin, make_user, login):
    user, _ = admin
    seed_contact(user.id)
    secretary = bearer(login(make_user(Role.USER))["access_token"])

    assert secretary_api.get(URL.format(PHONE) + "/export", headers=secretary).status_code == 403
    assert secretary_api.delete(URL.format(PHONE), headers=secretary).status_code == 403
    assert secretary_api.get(URL.format(PHONE) + "/export").status_code == 401
    assert secretary_api.delete(URL.format(PHONE)).status_code == 401
    assert count(Conversation) == 1
    with session_scope() as session:
        assert not session.scalar(select(func.count()).where(AuditLog.action.like("privacy.%")))


class BrokenMemory:
    def entries(self, conversation_id):
        raise ConnectionError("chroma down")

    def forget(self, conversation_id):
        raise ConnectionError("chroma down")


def test_a_memory_failure_is_reported_not_a_500(make_user):
    from shared.auth import Principal
    from shared.privacy import service

    admin = make_user(Role.ADMIN)
    conversation_id = seed_contact(admin.id)
    actor = Principal(user_id=admin.id, role=Role.ADMIN, jti=admin.id, family_id=admin.id, expires_at=utcnow())
    with session_scope() as session:
        export = service.export_contact(session, PHONE, actor, BrokenMemory())
    assert export.memory_error and export.conversations[0].messages

    erased = service.erase_contact(session_scope, PHONE, actor, BrokenMemory())

    assert erased.memory_errors == [str(conversation_id)] and erased.erased.conversations == 1
    assert count(Conversation) == 0

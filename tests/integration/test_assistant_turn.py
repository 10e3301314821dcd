"""The assistant's turn on the offline provider, from the intake to the WAHA emulator, on real Postgres and Redis."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shared.assistant.models import LLMInteraction
from shared.assistant.response_cache import stats as cache_stats
from shared.conversations.models import ConversationContext, ConversationMessage, ConversationStatus
from shared.db import session_scope
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import import_knowledge_base
from shared.leads.models import Lead, LeadSource
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.tasks.in_process import InProcessQueue
from shared.templates.models import MessageLocation, ScriptedMessage
from shared.users.models import Role
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.webhooks import parse_webhook
from tests.integration.assistant_support import (
    PATIENT,
    bot_replies,
    conversation_of,
    message_event,
    patient_says,
    reply_texts,
    stored_bot_messages,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = load_knowledge_base(ROOT / "local/sample_kb.yaml")
OTHER = load_knowledge_base(ROOT / "tests/data/other_clinic_kb.yaml")


def service_price(kb, name: str) -> str:
    return next(service.price for service in kb.services if service.name.lower() == name)


@pytest.fixture
def assistant(backends, waha_emulator, settings_env, tmp_path):
    """The processor's settings aimed at the WAHA emulator and at a knowledge base holding the sample clinic."""
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key", CHROMA_PERSIST_DIR=str(tmp_path / "chroma"))
    import_knowledge_base(SAMPLE)
    waha_emulator.emulator.outbox.clear()  # the emulator serves the whole session
    return waha_emulator


def test_address_and_price_come_from_the_imported_clinic_and_follow_a_new_import(assistant, settings_env):
    patient_says("oi, qual o endereço de vocês?")
    patient_says("quanto custa a limpeza de pele?")
    address, price = reply_texts(assistant)
    assert SAMPLE.clinic.address in address
    assert service_price(SAMPLE, "limpeza de pele") in price

    import_knowledge_base(OTHER)
    patient_says("oi, qual o endereço de vocês?", chat="5521977776666@c.us")
    patient_says("quanto custa a limpeza de pele?", chat="5521977776666@c.us")
    address, price = reply_texts(assistant, "5521977776666@c.us")
    assert OTHER.clinic.address in address and SAMPLE.clinic.address not in address
    assert service_price(OTHER, "limpeza de pele") in price


def test_wanting_an_appointment_makes_an_assigned_lead_and_notifies_that_secretary(assistant, make_user):
    busy, free = make_user(Role.USER), make_user(Role.USER)
    make_user(Role.ADMIN)
    with session_scope() as session:  # `busy` already holds an open lead: the new one goes to `free`
        session.add(Lead(name="Outra", phone_number="5511911112222", assigned_to_user_id=busy.id))

    patient_says("quero marcar uma consulta pra semana que vem")

    assert len(reply_texts(assistant)) == 1
    conversation = conversation_of()
    assert conversation.status is ConversationStatus.WAITING_SECRETARY
    assert conversation.assigned_to_user_id == free.id
    with session_scope() as session:
        lead = session.scalars(select(Lead).where(Lead.conversation_id == conversation.id)).one()
        assert (lead.source, lead.assigned_to_user_id, lead.phone_number) == (
            LeadSource.WHATSAPP,
            free.id,
            "5511988887777",
        )
        assert lead.maturity_score >= 70
        notes = session.scalars(select(Notification)).all()
        assert [(n.user_id, n.type, n.lead_id) for n in notes] == [(free.id, NotificationType.NEW_LEAD, lead.id)]


def test_pain_and_bleeding_are_urgent_with_a_priority_notification(assistant, make_user):
    secretary = make_user(Role.USER)
    patient_says("estou com muita dor e sangrando desde ontem")

    conversation = conversation_of()
    assert conversation.is_urgent and conversation.urgency_reason
    with session_scope() as session:
        urgent = session.scalars(select(Notification).where(Notification.type == NotificationType.URGENT)).all()
    assert [(n.user_id, n.priority) for n in urgent] == [(secretary.id, NotificationPriority.HIGH)]
    assert "192" in reply_texts(assistant)[0]


def test_a_burst_within_the_debounce_window_gets_one_reply(assistant, settings_env):
    settings_env(DEBOUNCE_SECONDS="1")
    queue = InProcessQueue(workers=3)
    for text in ("oi", "tudo bem?", "qual o horário de vocês?"):
        patient_says(text, queue=queue)
    assert queue.join(timeout=30)
    assert len(bot_replies(assistant)) == 1
    with session_scope() as session:
        notes = session.scalars(
            select(ConversationMessage.processing_note).where(ConversationMessage.direction == "INBOUND")
        ).all()
    assert notes == ["replied"] * 3


def test_the_same_webhook_five_times_gets_one_reply(assistant):
    body = message_event("qual o endereço?", message_id="false_5511988887777@c.us_SAMEWEBHOOK1")
    for _ in range(5):
        handle_webhook(parse_webhook(body), queue=InProcessQueue(inline=True))
    assert len(bot_replies(assistant)) == 1


def test_a_failed_send_is_retried_without_deciding_or_sending_twice(assistant):
    httpx.post(f"{assistant.url}/_emulator/faults", json={"fail_next": 2, "status": 500}).raise_for_status()
    patient_says("qual o endereço?")  # seen (best effort) and the send fail; the task's retry sends it
    assert len(bot_replies(assistant)) == 1
    [stored] = stored_bot_messages()
    assert stored.sent_at is not None and stored.waha_message_id == bot_replies(assistant)[0]["id"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LLMInteraction)) == 1


def test_someone_typing_on_the_clinic_phone_silences_the_bot(assistant):
    patient_says("oi")
    handle_webhook(
        parse_webhook(message_event("Oi! Aqui é a Ana, da recepção.", from_me=True, source="app")),
        queue=InProcessQueue(inline=True),
    )
    patient_says("qual o preço da limpeza de pele?")
    assert len(bot_replies(assistant)) == 1  # the greeting only
    with session_scope() as session:
        last = session.scalars(
            select(ConversationMessage.processing_note)
            .where(ConversationMessage.direction == "INBOUND")
            .order_by(ConversationMessage.created_at.desc())
        ).first()
    assert last == "human_takeover"


def test_opting_out_is_confirmed_once_then_silent_and_a_sentence_about_bills_is_not_an_opt_out(assistant):
    patient_says("não me mande mais boletos, por favor, quero pagar no cartão")
    assert conversation_of().opted_out_at is None
    patient_says("não quero mais receber mensagens")
    patient_says("qual o endereço?")
    patient_says("parar")
    assert conversation_of().opted_out_at is not None
    texts = reply_texts(assistant)
    assert len(texts) == 2  # the answer about bills (a handoff message) and the one confirmation
    patient_says("voltar")
    assert conversation_of().opted_out_at is None and len(reply_texts(assistant)) == 3


def test_faq_answers_are_cached_per_knowledge_version(assistant):
    patient_says("qual o endereço?")
    patient_says("Qual o endereço??", chat="5531966665555@c.us")
    assert cache_stats() == {"hits": 1, "misses": 1}
    with session_scope() as session:  # the hit made no model call
        assert session.scalar(select(func.count()).select_from(LLMInteraction)) == 1
    import_knowledge_base(OTHER)
    patient_says("qual o endereço?", chat="5541955554444@c.us")
    assert cache_stats()["misses"] == 2
    assert OTHER.clinic.address in reply_texts(assistant, "5541955554444@c.us")[0]


def test_a_chosen_template_goes_out_through_the_right_waha_method_with_its_variables(assistant):
    with session_scope() as session:
        template = ScriptedMessage(name="location_hours", kind="LOCATION", body="Te esperamos na {{clinica}}!")
        template.location = MessageLocation(latitude=-23.56, longitude=-46.65, name="Clínica")
        session.add(template)
    patient_says("onde fica a clínica?")
    kinds = [(m["kind"], m.get("text")) for m in bot_replies(assistant)]
    assert kinds[0][0] == "location"
    assert kinds[1] == ("text", f"Te esperamos na {SAMPLE.clinic.name}!")


def test_the_daily_model_budget_hands_the_conversation_off(assistant, settings_env, make_user):
    make_user(Role.USER)
    settings_env(LLM_DAILY_CALL_LIMIT="1", RESPONSE_CACHE_TTL_SECONDS="0")
    patient_says("oi")
    patient_says("qual o endereço?")
    conversation = conversation_of()
    assert conversation.status is ConversationStatus.WAITING_SECRETARY
    assert len(reply_texts(assistant)) == 2
    patient_says("e o telefone?")  # still over budget: nothing more is sent today
    assert len(reply_texts(assistant)) == 2


def test_every_call_is_recorded_with_its_prompt_version_and_the_facts_are_kept(assistant):
    patient_says("oi, meu nome é Carla, quero marcar uma limpeza de pele de manhã")
    conversation = conversation_of()
    with session_scope() as session:
        [call] = session.scalars(select(LLMInteraction)).all()
        assert (call.prompt_version, call.conversation_id, call.cost_usd) == ("offline-v2", conversation.id, 0)
        context = session.scalars(select(ConversationContext)).one()
        assert context.patient_name == "Carla" and "manhã" in context.preferences["items"]
        assert context.intent_type == "schedule" and context.facts["maturity"]["score"] >= 70
    assert [m["chatId"] for m in bot_replies(assistant)] == [PATIENT]


def test_a_patient_whose_lead_was_deleted_asking_again_gets_it_back_as_a_new_assigned_lead(assistant, make_user):
    secretary = make_user(Role.USER)
    patient_says("quero marcar uma consulta")
    with session_scope() as session:
        lead = session.scalars(select(Lead)).one()
        lead.deleted_at, lead.status = func.now(), "LOST"
    patient_says("oi, quero agendar uma limpeza de pele sábado")
    with session_scope() as session:
        lead = session.scalars(select(Lead)).one()
        assert (lead.deleted_at, lead.status.value, lead.assigned_to_user_id) == (None, "NEW", secretary.id)
        assert len(session.scalars(select(Notification).where(Notification.lead_id == lead.id)).all()) == 2

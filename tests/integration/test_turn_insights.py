"""What a turn records for the metrics (cards 148, 149, 153), through the real intake and the offline provider."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shared.assistant.models import CompetitorMention, LLMInteraction, TurnInsight
from shared.assistant.offline.sentiment import read_sentiment
from shared.clinic.models import SETTINGS_ROW, ClinicSettings
from shared.clinic.service import get_clinic_settings
from shared.conversations.models import ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import import_knowledge_base
from shared.notifications.models import Notification, NotificationType
from shared.queue import Task
from shared.routing import MESSAGE_PROCESSOR
from shared.tasks.in_process import InProcessQueue
from shared.users.models import Role
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.webhooks import parse_webhook
from tests.integration.assistant_support import bot_replies, conversation_of, message_event, patient_says

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = load_knowledge_base(ROOT / "local/sample_kb.yaml")


@pytest.fixture
def assistant(backends, waha_emulator, settings_env, tmp_path):
    """The processor aimed at the WAHA emulator, with the sample clinic's knowledge base and two competitors."""
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key", CHROMA_PERSIST_DIR=str(tmp_path / "chroma"))
    import_knowledge_base(SAMPLE)
    with session_scope() as session:
        get_clinic_settings(session)  # writes the settings row with its defaults
        session.get(ClinicSettings, SETTINGS_ROW).competitors = ["Clínica Sorriso", "DermaMais"]
    waha_emulator.emulator.outbox.clear()
    return waha_emulator


def patient_messages() -> list[ConversationMessage]:
    with session_scope() as session:
        rows = session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.direction == MessageDirection.INBOUND)
            .where(ConversationMessage.sender_kind == SenderKind.PATIENT)
            .order_by(ConversationMessage.created_at)
        ).all()
        session.expunge_all()
        return list(rows)


def insights() -> list[TurnInsight]:
    with session_scope() as session:
        rows = session.scalars(select(TurnInsight).order_by(TurnInsight.created_at)).all()
        session.expunge_all()
        return list(rows)


def mentions() -> set[tuple[uuid.UUID, str]]:
    with session_scope() as session:
        found = select(CompetitorMention.message_id, CompetitorMention.competitor)
        return {tuple(row) for row in session.execute(found)}


def competitor_notifications() -> list[tuple[uuid.UUID, str]]:
    with session_scope() as session:
        found = select(Notification.user_id, Notification.title).where(Notification.type == NotificationType.SYSTEM)
        return sorted(tuple(row) for row in session.execute(found))


def test_each_answered_message_gets_one_row_with_its_sentiment_and_the_services_it_names(assistant):
    said = {
        "quanto custa o botox?": ("neutral", ["toxina botulinica (botox)"]),
        "fui super bem atendida, amei a limpeza de pele": ("positive", ["limpeza de pele"]),
        "que absurdo, paguei caro no peeling químico e fiquei manchada": ("negative", ["peeling quimico"]),
    }
    for text in said:
        patient_says(text)

    messages, rows = patient_messages(), insights()
    assert [m.processing_note for m in messages] == ["replied"] * 3
    assert [row.message_id for row in rows] == [m.id for m in messages]
    for message, row in zip(messages, rows, strict=True):
        sentiment, services = said[message.body]
        assert (row.conversation_id, row.created_at) == (message.conversation_id, message.created_at)
        assert row.sentiment == sentiment and row.sentiment_score == Decimal(str(read_sentiment(message.body).score))
        assert row.intent and row.topics == [row.intent, *services]


def test_a_burst_is_one_turn_and_one_row_keyed_by_its_newest_message(assistant, settings_env):
    settings_env(DEBOUNCE_SECONDS="1")
    queue = InProcessQueue(workers=3)
    for text in ("oi", "quanto custa o botox?", "e a limpeza de pele?"):
        patient_says(text, queue=queue)
    assert queue.join(timeout=30)

    [row] = insights()
    newest = patient_messages()[-1]
    assert (row.message_id, row.created_at) == (newest.id, newest.created_at)
    assert row.topics == [row.intent, "limpeza de pele", "toxina botulinica (botox)"]  # the knowledge base's order


def test_a_retried_turn_writes_nothing_twice(assistant, make_user):
    admin = make_user(Role.ADMIN)
    httpx.post(f"{assistant.url}/_emulator/faults", json={"fail_next": 2, "status": 500}).raise_for_status()
    webhook_id = "false_5511988887777@c.us_RETRIEDTURN1"
    patient_says("fui na clínica sorriso semana passada e não gostei", message_id=webhook_id)  # sent on the retry
    [message] = patient_messages()
    payload = {
        "kind": "process_message",
        "conversation_id": str(message.conversation_id),
        "message_id": str(message.id),
    }
    task = Task.build("messages", MESSAGE_PROCESSOR, payload, f"turn-{message.id}")
    assert InProcessQueue(inline=True).deliver(task, retry_count=3).ok  # the queue delivers it once more
    patient_says("fui na clínica sorriso semana passada e não gostei", message_id=webhook_id)  # WAHA repeats it

    assert len(bot_replies(assistant)) == 1
    [row] = insights()
    assert (row.message_id, row.sentiment) == (message.id, "negative")
    assert mentions() == {(message.id, "Clínica Sorriso")}
    assert competitor_notifications() == [(admin.id, "Concorrente citado: Clínica Sorriso")]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LLMInteraction)) == 1


def test_a_competitor_is_recorded_once_per_message_naming_it_and_the_admins_told_once_per_chat(assistant, make_user):
    admins = sorted([make_user(Role.ADMIN).id, make_user(Role.ADMIN).id])
    make_user(Role.USER)  # a secretary: not told
    patient_says("na Clínica Sorriso o botox é mais barato, vocês cobrem?")
    patient_says("a clinica sorriso e a DERMAMAIS fazem limpeza de pele por menos")
    handle_webhook(  # a person takes over: the bot is silent, and a competitor named is still recorded
        parse_webhook(message_event("Oi! Aqui é a Ana, da recepção.", from_me=True, source="app")),
        queue=InProcessQueue(inline=True),
    )
    patient_says("e a dermamais também faz peeling?")

    first, second, third = patient_messages()
    assert mentions() == {
        (first.id, "Clínica Sorriso"),
        (second.id, "Clínica Sorriso"),
        (second.id, "DermaMais"),
        (third.id, "DermaMais"),
    }
    told = [(admin, f"Concorrente citado: {name}") for admin in admins for name in ("Clínica Sorriso", "DermaMais")]
    assert competitor_notifications() == sorted(told)
    assert third.processing_note == "human_takeover"
    assert [row.message_id for row in insights()] == [first.id, second.id]  # the unanswered one has no turn
    assert conversation_of().id == first.conversation_id

"""The Gemini provider through the real google-genai SDK against the Gemini emulator, inside whole turns."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from local.gemini_emulator import EmulatorServer
from shared.alerts.models import Alert
from shared.assistant.models import LLMInteraction, LLMProvider
from shared.assistant.turn import FALLBACK_MESSAGE
from shared.conversations.models import ConversationMessage, ConversationStatus
from shared.db import session_scope
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import import_knowledge_base
from shared.leads.models import Lead
from shared.notifications.models import Notification
from shared.users.models import Role
from tests.integration.assistant_support import conversation_of, patient_says, reply_texts

SAMPLE = load_knowledge_base(Path(__file__).resolve().parents[2] / "local/sample_kb.yaml")
KEYS = ("key-one", "key-two")


def decision(**changes) -> dict:
    answer = {
        "reply": "Claro! Nossa equipe já vai falar com você para marcar. 😊",
        "template": None,
        "intent": "schedule",
        "confidence": 0.93,
        "is_urgent": False,
        "urgency_reason": None,
        "maturity": {"score": 82, "engagement": "alto", "interest_clarity": "quer marcar", "objections": []},
        "facts": {"name": "Marina", "symptoms": [], "concerns": ["manchas"], "preferences": ["sábado de manhã"]},
        "handoff": True,
        "handoff_reason": "quer agendar",
    }
    return answer | changes


@pytest.fixture(scope="session")
def gemini():
    with EmulatorServer("127.0.0.1", 0, api_keys=list(KEYS)) as server:
        yield server


@pytest.fixture
def on_gemini(backends, gemini, waha_emulator, settings_env, tmp_path):
    settings_env(
        ASSISTANT_PROVIDER="gemini",
        GOOGLE_API_KEY=",".join(KEYS),
        GEMINI_BASE_URL=gemini.url,
        GEMINI_TIMEOUT_SECONDS="0.5",
        GEMINI_MODEL="gemini-2.5-flash",
        WAHA_URL=waha_emulator.url,
        WAHA_API_KEY="test-waha-key",
        CHROMA_PERSIST_DIR=str(tmp_path / "chroma"),
    )
    import_knowledge_base(SAMPLE)
    gemini.reset()
    waha_emulator.emulator.outbox.clear()
    return gemini


def test_the_structured_answer_is_parsed_and_acted_on(on_gemini, waha_emulator, make_user):
    secretary = make_user(Role.USER)
    on_gemini.script({"json": decision()})
    patient_says("oi, sou a Marina, queria marcar uma avaliação pra sábado de manhã")

    assert reply_texts(waha_emulator) == [decision()["reply"]]
    conversation = conversation_of()
    assert conversation.status is ConversationStatus.WAITING_SECRETARY
    with session_scope() as session:
        lead = session.scalars(select(Lead)).one()
        assert (lead.assigned_to_user_id, lead.maturity_score, lead.name) == (secretary.id, 82, "Marina")
        assert session.scalars(select(Notification.user_id)).all() == [secretary.id]
        [call] = session.scalars(select(LLMInteraction)).all()
    assert call.provider is LLMProvider.GEMINI and call.prompt_version.startswith("turn-v2+")
    assert call.prompt_tokens > 0 and call.completion_tokens > 0 and call.cost_usd > Decimal(0)
    [request] = on_gemini.requests()
    sent = str(request["body"])
    assert SAMPLE.clinic.address in sent and "sábado de manhã" in sent  # retrieval and the message reached the model
    assert request["body"]["generationConfig"]["responseMimeType"] == "application/json"


def test_a_429_then_success_gives_one_reply_and_benches_the_refused_key(on_gemini, waha_emulator):
    on_gemini.script({"status": 429, "message": "quota"}, {"json": decision(intent="price", handoff=False)})
    patient_says("quanto custa o botox?")
    assert len(reply_texts(waha_emulator)) == 1
    first, second = (request["api_key"] for request in on_gemini.requests())
    assert first != second  # the retry went out on the other key
    on_gemini.script({"json": decision(intent="price", handoff=False)})
    patient_says("e o peeling?")
    assert on_gemini.requests()[-1]["api_key"] == second  # the refused key is still benched


def test_three_timeouts_send_one_apology_and_hand_off(on_gemini, waha_emulator, make_user):
    secretary = make_user(Role.USER)
    on_gemini.script(*[{"delay": 2} for _ in range(3)])
    patient_says("vocês atendem aos sábados?")

    assert reply_texts(waha_emulator) == [FALLBACK_MESSAGE]
    conversation = conversation_of()
    assert (
        conversation.status is ConversationStatus.WAITING_SECRETARY and conversation.assigned_to_user_id == secretary.id
    )
    with session_scope() as session:
        assert [a.kind for a in session.scalars(select(Alert))] == ["llm_failure"]
        note = session.scalars(
            select(ConversationMessage.processing_note).where(ConversationMessage.direction == "INBOUND")
        ).one()
        failed = session.scalars(select(LLMInteraction.error)).one()
    assert note == "llm_failures" and "Timeout" in failed


def test_a_failed_turn_apologises_once_and_its_retry_answers(on_gemini, waha_emulator):
    on_gemini.script(
        {"status": 400, "message": "bad"},
        {"status": 400, "message": "bad"},
        {"json": decision(intent="location_hours", handoff=False)},
    )
    patient_says("onde vocês ficam?")
    assert reply_texts(waha_emulator) == [FALLBACK_MESSAGE, decision()["reply"]]
    assert conversation_of().status is ConversationStatus.ACTIVE
    with session_scope() as session:
        assert len(session.scalars(select(Alert)).all()) == 2


def test_a_low_confidence_answer_hands_off_instead_of_guessing(on_gemini, waha_emulator, make_user):
    make_user(Role.USER)
    on_gemini.script({"json": decision(intent="other", confidence=0.3, handoff=False)})
    patient_says("e aquele negócio que falei?")
    assert conversation_of().status is ConversationStatus.WAITING_SECRETARY
    with session_scope() as session:
        assert session.scalars(select(Lead)).all() == []

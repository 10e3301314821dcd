"""The assistant's pure rules: prompts and their versions, costs, when to hand off, what the cache keeps."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from shared.assistant.costs import cost_of
from shared.assistant.outcomes import handoff_reason
from shared.assistant.prompt_context import render_turn_prompt
from shared.assistant.prompts import load_prompt
from shared.assistant.providers import TemplateOption, TurnRequest
from shared.assistant.response_cache import is_cacheable, normalise_question, question_digest
from shared.assistant.schemas import Intent, Maturity, PatientFacts, TurnDecision


def decision(intent: Intent, confidence: float = 0.9, **changes) -> TurnDecision:
    return TurnDecision(reply="ok", intent=intent, confidence=confidence, maturity=Maturity(score=40), **changes)


def test_the_prompt_version_names_the_prompt_and_the_hash_of_its_files():
    prompt = load_prompt()
    assert prompt.version.startswith("turn-v2+") and len(prompt.version) == len("turn-v2+") + 8
    assert "sentiment_score" in prompt.system and "services" in prompt.system


def test_the_turn_prompt_carries_the_persona_the_knowledge_the_history_and_the_new_messages():
    request = TurnRequest(
        conversation_id=uuid.uuid4(),
        clinic_name="Clínica Sorriso",
        new_messages=["quanto custa?", "o clareamento"],
        history=[("PATIENT", "oi"), ("BOT", "Olá! Como posso ajudar?")],
        facts={"nome": "Rita"},
        knowledge=["Clareamento: R$ 900,00"],
        templates=[TemplateOption("boas_vindas", "TEXT", "Olá, {{nome}}!")],
    )
    system, contents = render_turn_prompt(load_prompt(), request)
    assert "Clínica Sorriso" in system and "{{" not in system
    assert "- Clareamento: R$ 900,00" in contents and "Paciente: o clareamento" in contents
    assert "Assistente: Olá! Como posso ajudar?" in contents and '"nome": "Rita"' in contents
    assert "boas_vindas (TEXT): Olá, {{nome}}!" in contents  # a template's own variables reach the model as written


def test_costs_follow_the_price_table():
    assert cost_of("gemini-2.5-flash", 1000, 500) == Decimal("0.001550")
    assert cost_of("models/gemini-2.5-flash-lite", 1_000_000, 0) == Decimal("0.100000")
    assert cost_of("offline", 10, 10) == 0
    assert cost_of("a-model-nobody-priced", 10, 10) is None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (decision(Intent.SCHEDULE), "schedule"),
        (decision(Intent.CANCEL), "cancel"),
        (decision(Intent.PRICE, is_urgent=True), "urgent"),
        (decision(Intent.COMPLAINT), "complaint"),
        (decision(Intent.PRICE, confidence=0.3), "low_confidence"),
        (decision(Intent.SCHEDULE, confidence=0.3), "low_confidence"),
        (decision(Intent.OTHER, handoff=True), "model_requested"),
        (decision(Intent.OPT_OUT), "model_requested"),
        (decision(Intent.PRICE), None),
        (decision(Intent.GREETING), None),
    ],
)
def test_when_a_secretary_takes_over(answer, reason):
    assert handoff_reason(answer, confidence_threshold=0.55) == reason


def test_only_plain_faq_answers_are_cached_and_the_key_ignores_case_accents_and_punctuation():
    assert is_cacheable(decision(Intent.PRICE))
    assert not is_cacheable(decision(Intent.PRICE, facts=PatientFacts(name="Rita")))
    assert not is_cacheable(decision(Intent.SCHEDULE))
    assert not is_cacheable(decision(Intent.LOCATION_HOURS, handoff=True))
    assert normalise_question("  Qual o ENDEREÇO de vocês?? 😊 ") == "qual o endereco de voces"
    assert question_digest("Qual o endereço?", "v1", "kb1") == question_digest("qual o endereco", "v1", "kb1")
    assert question_digest("qual o endereço", "v1", "kb1") != question_digest("qual o endereço", "v1", "kb2")
    assert question_digest("qual o endereço", "v1", "kb1") != question_digest("qual o endereço", "v2", "kb1")

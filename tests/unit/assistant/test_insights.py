"""What a turn records for the metrics, as pure rules: the decision's sentiment, its topics, competitors named."""

from __future__ import annotations

import json

import pytest

from local.gemini_emulator.schema_instance import build_instance
from shared.assistant.competitors import competitors_named
from shared.assistant.models import Sentiment
from shared.assistant.schemas import Intent, Maturity, TurnDecision
from shared.assistant.topics import services_named, topic_name, turn_topics
from shared.knowledge.schemas import Service

SERVICES = [
    Service(name="Toxina botulínica (botox)"),
    Service(name="Limpeza de pele"),
    Service(name="Peeling químico"),
    Service(name="Depilação a laser"),
]


def decision(intent: Intent = Intent.PRICE, **changes) -> TurnDecision:
    return TurnDecision(reply="ok", intent=intent, confidence=0.9, maturity=Maturity(score=40), **changes)


def test_the_model_must_answer_sentiment_and_services_but_an_older_answer_still_parses():
    schema = TurnDecision.model_json_schema()
    assert {"sentiment", "sentiment_score", "services"} <= set(schema["required"])
    old = decision()
    assert (old.sentiment, old.sentiment_score, old.services) == (Sentiment.NEUTRAL, 0.0, [])


def test_the_score_is_kept_within_the_band_of_its_label():
    assert decision(sentiment="positive", sentiment_score=-1).sentiment_score == 0.2
    assert decision(sentiment="negative", sentiment_score=0.7).sentiment_score == -0.2
    assert decision(sentiment="neutral", sentiment_score=-0.9).sentiment_score == -0.2
    assert decision(sentiment="negative", sentiment_score=-0.8123).sentiment_score == -0.812


def test_the_emulators_unscripted_answer_is_a_valid_decision():
    answer = TurnDecision.model_validate_json(json.dumps(build_instance(TurnDecision.model_json_schema())))
    assert answer.sentiment in Sentiment and -1 <= answer.sentiment_score <= 1 and answer.services == []


def test_topics_are_the_intent_and_the_services_named_without_case_or_accents():
    texts = ["Quanto custa o BOTOX?", "e a limpeza de pele tbm", "depilacao a laser nas axilas"]
    assert turn_topics(decision(), texts, SERVICES) == [
        "price", "toxina botulinica (botox)", "limpeza de pele", "depilacao a laser",
    ]  # fmt: skip
    assert topic_name("  Peeling   QUÍMICO ") == "peeling quimico"


def test_a_service_is_named_only_as_whole_words_and_the_models_list_only_counts_for_the_clinics_services():
    assert services_named(["quero um peeling"], SERVICES) == []  # "peeling" alone is not "peeling químico"
    assert services_named(["botoxx"], SERVICES) == []
    from_model = decision(intent=Intent.PROCEDURE_INFO, services=["Peeling químico", "Lipo de papada"])
    assert turn_topics(from_model, ["como funciona?"], SERVICES) == ["procedure_info", "peeling quimico"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fui na CLINICA SORRISO e não gostei", ["Clínica Sorriso"]),
        ("a clínica sorriso cobra menos!", ["Clínica Sorriso"]),
        ("o sorriso da minha filha", []),  # part of a name is not the name
        ("na DermaMais e na Odonto-Vida é mais barato", ["DermaMais", "Odonto Vida"]),
        ("dermamaisbarata", []),  # whole words only
        ("", []),
    ],
)
def test_competitors_are_matched_on_word_boundaries_without_case_or_accents(text, expected):
    assert competitors_named(text, ["Clínica Sorriso", "DermaMais", "Odonto Vida"]) == expected

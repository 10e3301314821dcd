"""NPS, sentiment, topics, competitor mentions and AI usage (cards 134, 147, 148, 149, 153), hand-counted.

The clinic: three conversations (Ana's, Bia's, nobody's); rows dated around midnight in São Paulo (UTC-3, no
summer time since 2019), so the same dates read in UTC move some of them across a day.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from shared.assistant.costs import cost_of
from shared.assistant.models import CompetitorMention, LLMInteraction, LLMProvider, TurnInsight
from shared.conversations.models import Conversation, SenderKind
from shared.db import session_scope
from tests.functions.metrics_support import add_conversation, add_feedback, add_message, at

NOV_3_TO_9 = {"start_date": "2026-11-03", "end_date": "2026-11-09"}
NOV_3_TO_5 = {"start_date": "2026-11-03", "end_date": "2026-11-05"}


def _get(client, path: str, headers: dict, **params):
    response = client.get(f"/api/v1/metrics/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _conversations(session, people) -> SimpleNamespace:
    start = at("2026-10-01 08:00")
    return SimpleNamespace(ana=add_conversation(session, created_at=start, assigned_to=people.ana.id),
                           bia=add_conversation(session, created_at=start, assigned_to=people.bia.id),
                           none=add_conversation(session, created_at=start))  # fmt: skip


# --- NPS ----------------------------------------------------------------------------------------------------


@pytest.fixture
def feedback_clinic(people):
    with session_scope() as session:
        c = _conversations(session, people)
        for conversation, score, when in (
            (c.ana, 10, "2026-11-03 00:00"),  # promoter, the period's first instant
            (c.ana, 9, "2026-11-09 23:59"),  # promoter, its last minute (11-10 02:59 UTC)
            (c.ana, 7, "2026-11-05 12:00"),  # passive
            (c.bia, 3, "2026-11-02 23:59"),  # detractor of the previous period (11-03 02:59 UTC)
            (c.bia, 6, "2026-11-10 00:00"),  # after the period
            (c.bia, 8, "2026-11-04 10:00"),  # passive
            (c.bia, 0, "2026-11-06 10:00"),  # detractor
            (c.none, 10, "2026-11-07 10:00"),  # promoter
        ):
            add_feedback(session, conversation, score, at(when))
    return people


def test_nps_counts_the_feedback_given_in_the_period(metrics_api, feedback_clinic):
    found = _get(metrics_api, "nps", feedback_clinic.admin_h, **NOV_3_TO_9)

    # In 11-03..11-09 São Paulo: 10, 9, 7 (Ana), 8, 0 (Bia), 10 (nobody's): 3 promoters, 2 passives, 1 detractor.
    assert (found["responses"], found["promoters"], found["passives"], found["detractors"]) == (6, 3, 2, 1)
    assert found["nps"] == 33.3  # (3 - 1) / 6 = 33.33 %
    assert found["average_score"] == 7.33  # 44 / 6
    assert found["n"] == 6
    # 10-27..11-02: Bia's 3 alone.
    assert found["previous"] == {"nps": -100.0, "responses": 1, "promoters": 0, "passives": 0, "detractors": 1,
                                 "average_score": 3.0, "n": 1}  # fmt: skip
    assert found["delta_pct"]["nps"] == 133.3  # (33.3 + 100) / 100
    assert found["delta_pct"]["responses"] == 500.0
    assert (found["tz"], found["user_id"], found["period"]) == ("America/Sao_Paulo", None, "2026-11-03 to 2026-11-09")


def test_nps_in_utc_moves_the_midnight_answers(metrics_api, feedback_clinic):
    found = _get(metrics_api, "nps", feedback_clinic.admin_h, **NOV_3_TO_9, tz="UTC")

    # UTC 11-03..11-09: Bia's 3 (02:59 UTC on 11-03) comes in, Ana's 9 (02:59 UTC on 11-10) goes out:
    # 10, 7, 3, 8, 0, 10: promoters 2, passives 2, detractors 2.
    assert (found["responses"], found["promoters"], found["passives"], found["detractors"]) == (6, 2, 2, 2)
    assert found["nps"] == 0.0
    assert found["average_score"] == 6.33  # 38 / 6
    assert found["tz"] == "UTC"


def test_nps_of_one_secretary(metrics_api, feedback_clinic):
    people = feedback_clinic
    ana = _get(metrics_api, "nps", people.ana_h, **NOV_3_TO_9)
    bia_for_admin = _get(metrics_api, "nps", people.admin_h, **NOV_3_TO_9, user_id=str(people.bia.id))
    denied = metrics_api.get("/api/v1/metrics/nps", query_string={**NOV_3_TO_9, "user_id": str(people.bia.id)},
                             headers=people.ana_h)  # fmt: skip

    # Ana: 10, 9, 7.
    assert (ana["responses"], ana["promoters"], ana["passives"], ana["detractors"]) == (3, 2, 1, 0)
    assert (ana["nps"], ana["average_score"], ana["user_id"]) == (66.7, 8.67, str(people.ana.id))
    # Bia: 8, 0.
    assert (bia_for_admin["nps"], bia_for_admin["average_score"], bia_for_admin["responses"]) == (-50.0, 4.0, 2)
    assert denied.status_code == 403


def test_nps_without_feedback_is_null(metrics_api, people):
    found = _get(metrics_api, "nps", people.admin_h, **NOV_3_TO_9)

    assert (found["nps"], found["average_score"], found["responses"], found["n"]) == (None, None, 0, 0)
    assert found["delta_pct"]["responses"] is None


# --- sentiment, topics, competitors -------------------------------------------------------------------------


def _insight(session, conversation: Conversation, when: str, sentiment: str, score: str, intent: str | None,
             topics: list[str], competitors: tuple[str, ...] = ()) -> None:  # fmt: skip
    message = add_message(session, conversation, at(when), SenderKind.PATIENT)
    session.add(TurnInsight(conversation_id=conversation.id, message_id=message.id, sentiment=sentiment,
                            sentiment_score=Decimal(score), intent=intent, topics=topics,
                            created_at=at(when)))  # fmt: skip
    for name in competitors:
        session.add(CompetitorMention(conversation_id=conversation.id, message_id=message.id, competitor=name,
                                      created_at=at(when)))  # fmt: skip
    session.flush()


@pytest.fixture
def insight_clinic(people, secretary_api):
    listed = {"competitors": ["Clínica Sorriso", "DermaMais", "Estética Bela"]}
    assert secretary_api.put("/api/v1/clinic/settings", json=listed, headers=people.admin_h).status_code == 200
    with session_scope() as session:
        c = _conversations(session, people)
        _insight(session, c.ana, "2026-11-02 23:59", "positive", "0.8", "greeting", ["greeting"])  # previous period
        _insight(session, c.ana, "2026-11-03 00:00", "positive", "0.9", "price", ["price", "botox"],
                 ("Clínica Sorriso",))  # fmt: skip
        _insight(session, c.ana, "2026-11-03 10:00", "negative", "-0.6", "urgency", ["pain"],
                 ("Clínica Sorriso", "DermaMais"))  # fmt: skip
        _insight(session, c.ana, "2026-11-05 23:59", "neutral", "0", "price", ["price"])
        _insight(session, c.bia, "2026-11-04 09:00", "positive", "0.5", "schedule", ["botox", "schedule"],
                 ("clínica sorriso",))  # fmt: skip
        _insight(session, c.bia, "2026-11-06 00:00", "negative", "-1", "complaint", ["price"], ("DermaMais",))
        _insight(session, c.none, "2026-11-04 12:00", "neutral", "0.1", "location", ["address"],
                 ("Clínica Antiga",))  # fmt: skip
    return people


def test_sentiment_totals_and_trend(metrics_api, insight_clinic):
    found = _get(metrics_api, "sentiment", insight_clinic.admin_h, **NOV_3_TO_5)

    # 11-03..11-05: +0.9, -0.6, 0 (Ana), +0.5 (Bia), +0.1 (nobody's); Bia's 11-06 00:00 is after the period.
    assert (found["positive"], found["neutral"], found["negative"], found["n"]) == (2, 2, 1, 5)
    assert found["overall_sentiment_score"] == 0.18  # 0.9 / 5
    assert found["trend"] == [
        {"date": "2026-11-03", "positive": 1, "neutral": 0, "negative": 1, "score": 0.15},  # (0.9 - 0.6) / 2
        {"date": "2026-11-04", "positive": 1, "neutral": 1, "negative": 0, "score": 0.3},  # (0.5 + 0.1) / 2
        {"date": "2026-11-05", "positive": 0, "neutral": 1, "negative": 0, "score": 0.0},
    ]
    # 10-31..11-02: Ana's 0.8 at 23:59 on 11-02.
    assert found["previous"] == {"positive": 1, "neutral": 0, "negative": 0, "overall_sentiment_score": 0.8, "n": 1}


def test_sentiment_in_utc_and_for_a_secretary(metrics_api, insight_clinic):
    utc = _get(metrics_api, "sentiment", insight_clinic.admin_h, **NOV_3_TO_5, tz="UTC")
    ana = _get(metrics_api, "sentiment", insight_clinic.ana_h, **NOV_3_TO_5)

    # UTC 11-03..11-05 is São Paulo 11-02 21:00 .. 11-05 21:00: +0.8 comes in, Ana's 23:59 on 11-05 goes out.
    assert (utc["positive"], utc["neutral"], utc["negative"]) == (3, 1, 1)
    assert utc["overall_sentiment_score"] == 0.34  # (0.8 + 0.9 - 0.6 + 0.5 + 0.1) / 5
    assert [day["score"] for day in utc["trend"]] == [0.37, 0.3, None]  # 1.1 / 3; 0.6 / 2; no turns on 11-05
    assert utc["trend"][2] == {"date": "2026-11-05", "positive": 0, "neutral": 0, "negative": 0, "score": None}
    # Ana: +0.9, -0.6, 0.
    assert (ana["positive"], ana["neutral"], ana["negative"], ana["overall_sentiment_score"]) == (1, 1, 1, 0.1)


def test_topics_rank_by_count_then_name(metrics_api, insight_clinic):
    found = _get(metrics_api, "topics", insight_clinic.admin_h, **NOV_3_TO_5)
    top = _get(metrics_api, "topics", insight_clinic.admin_h, **NOV_3_TO_5, limit=3)
    bia = _get(metrics_api, "topics", insight_clinic.bia_h, **NOV_3_TO_5)

    # Turns in 11-03..11-05: {price, botox}, {pain}, {price}, {botox, schedule}, {address}.
    assert found["turns"] == 5
    assert found["topics"] == [{"topic": "botox", "count": 2}, {"topic": "price", "count": 2},
                               {"topic": "address", "count": 1}, {"topic": "pain", "count": 1},
                               {"topic": "schedule", "count": 1}]  # fmt: skip
    assert found["intents"] == [{"intent": "price", "count": 2}, {"intent": "location", "count": 1},
                                {"intent": "schedule", "count": 1}, {"intent": "urgency", "count": 1}]  # fmt: skip
    assert [item["topic"] for item in top["topics"]] == ["botox", "price", "address"]
    assert len(top["intents"]) == 3
    assert (bia["turns"], bia["topics"]) == (1, [{"topic": "botox", "count": 1}, {"topic": "schedule", "count": 1}])


def test_topics_limit_is_bounded(metrics_api, people):
    for limit in (0, 101):
        response = metrics_api.get("/api/v1/metrics/topics", query_string={"limit": limit}, headers=people.admin_h)
        assert response.status_code == 422


def test_competitor_mentions_list_every_competitor(metrics_api, insight_clinic):
    found = _get(metrics_api, "competitor-mentions", insight_clinic.admin_h, **NOV_3_TO_5)
    ana = _get(metrics_api, "competitor-mentions", insight_clinic.ana_h, **NOV_3_TO_5)

    # Sorriso: Ana's 00:00 and 10:00 messages, Bia's "clínica sorriso" (matched regardless of case): 3 in 2
    # conversations. DermaMais: Ana's 10:00 (Bia's 11-06 is after). Estética Bela: none. Clínica Antiga is no
    # longer listed but was mentioned.
    assert found["competitors"] == [
        {"name": "Clínica Sorriso", "mentions": 3, "conversations": 2, "listed": True},
        {"name": "Clínica Antiga", "mentions": 1, "conversations": 1, "listed": False},
        {"name": "DermaMais", "mentions": 1, "conversations": 1, "listed": True},
        {"name": "Estética Bela", "mentions": 0, "conversations": 0, "listed": True},
    ]
    assert found["total_mentions"] == 5
    assert ana["competitors"] == [
        {"name": "Clínica Sorriso", "mentions": 2, "conversations": 1, "listed": True},
        {"name": "DermaMais", "mentions": 1, "conversations": 1, "listed": True},
        {"name": "Estética Bela", "mentions": 0, "conversations": 0, "listed": True},
    ]


# --- AI usage -----------------------------------------------------------------------------------------------


def _call(session, conversation, when: datetime, model: str, tokens: tuple[int, int], latency: int,
          provider: LLMProvider = LLMProvider.GEMINI, error: str | None = None) -> None:  # fmt: skip
    prompt, completion = tokens
    session.add(LLMInteraction(conversation_id=conversation.id if conversation else None, provider=provider,
                               model_name=model, prompt_version="v1", prompt_tokens=prompt,
                               completion_tokens=completion, total_tokens=prompt + completion,
                               cost_usd=cost_of(model, prompt, completion), latency_ms=latency, error=error,
                               created_at=when))  # fmt: skip


@pytest.fixture
def ai_clinic(people):
    with session_scope() as session:
        c = _conversations(session, people)
        _call(session, c.ana, at("2026-11-02 23:59"), "gemini-2.5-flash", (100, 50), 300)  # previous period
        _call(session, c.ana, at("2026-11-03 00:00"), "gemini-2.5-flash", (1000, 200), 400)  # $0.000800
        _call(session, c.ana, at("2026-11-04 10:00"), "gemini-2.5-flash", (2000, 300), 800, error="timeout")  # $0.00135
        _call(session, c.bia, at("2026-11-05 23:59"), "offline", (0, 0), 100, provider=LLMProvider.OFFLINE)
        _call(session, None, at("2026-11-04 12:00"), "gemini-2.5-pro", (500, 100), 1200)  # $0.001625, no chat
        _call(session, c.bia, at("2026-11-06 00:00"), "gemini-2.5-pro", (9000, 9000), 5000)  # after the period
    return people


def test_ai_usage_of_the_period(metrics_api, ai_clinic):
    found = _get(metrics_api, "ai", ai_clinic.admin_h, **NOV_3_TO_5)

    assert (found["interactions"], found["errors"], found["error_rate"], found["n"]) == (4, 1, 25.0, 4)
    assert (found["prompt_tokens"], found["completion_tokens"], found["total_tokens"]) == (3500, 600, 4100)
    assert found["estimated_cost_usd"] == 0.003775  # 0.0008 + 0.00135 + 0 + 0.001625
    assert found["avg_latency_ms"] == 625.0  # (400 + 800 + 100 + 1200) / 4
    assert found["p95_latency_ms"] == 1140.0  # 800 + 0.85 x (1200 - 800)
    by_provider = [(p["provider"], p["model"], p["interactions"], p["cost_usd"]) for p in found["by_provider"]]
    assert by_provider == [("GEMINI", "gemini-2.5-flash", 2, "0.002150"), ("GEMINI", "gemini-2.5-pro", 1, "0.001625"),
                           ("OFFLINE", "offline", 1, "0.000000")]  # fmt: skip
    assert [(v["prompt_version"], v["interactions"]) for v in found["by_prompt_version"]] == [("v1", 4)]
    assert (found["previous"]["interactions"], found["previous"]["total_tokens"]) == (1, 150)
    assert found["delta_pct"]["interactions"] == 300.0


def test_ai_usage_of_a_secretary_covers_her_conversations(metrics_api, ai_clinic):
    ana = _get(metrics_api, "ai", ai_clinic.ana_h, **NOV_3_TO_5)
    denied = metrics_api.get("/api/v1/metrics/ai", query_string={"user_id": str(ai_clinic.bia.id)},
                             headers=ai_clinic.ana_h)  # fmt: skip

    # Ana's two flash calls; the call without a conversation is the clinic's only.
    assert (ana["interactions"], ana["errors"], ana["error_rate"], ana["total_tokens"]) == (2, 1, 50.0, 3500)
    assert (ana["estimated_cost_usd"], ana["avg_latency_ms"], ana["p95_latency_ms"]) == (0.00215, 600.0, 780.0)
    assert denied.status_code == 403


def test_every_quality_route_needs_a_token(metrics_api):
    for path in ("nps", "sentiment", "topics", "competitor-mentions", "ai"):
        assert metrics_api.get(f"/api/v1/metrics/{path}").status_code == 401

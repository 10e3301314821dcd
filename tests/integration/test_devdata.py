"""The generated data set (card 165): what `clinicbot generate-data` writes, and that the API serves it."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from shared.assistant.competitors import competitors_named
from shared.assistant.models import CompetitorMention, LLMInteraction, TurnInsight
from shared.cli import main
from shared.clinic.service import get_clinic_settings
from shared.conversations.models import Conversation, ConversationMessage, ConversationStatus, SenderKind
from shared.db import session_scope
from shared.devdata import records, vocabulary
from shared.devdata.generate import DEV_PASSWORD, generate_data
from shared.devdata.progress import ProgressBar
from shared.feedback.models import Feedback
from shared.leads.models import Lead, LeadSource, LeadStatus
from shared.metrics.rollups import check_rollups
from shared.users.models import Role, User
from tests.conftest import bearer

_M = ConversationMessage


def count(session, model, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_generated_counts_and_the_invariants_the_app_relies_on(backends):
    made = generate_data(50, 400, 3, seed=7, progress=None)

    assert (made.users, made.conversations, made.messages) == (3, 50, 400)
    with session_scope() as session:
        assert count(session, User, User.role == Role.USER) == 3
        assert count(session, Conversation) == 50 and count(session, _M) == 400
        assert count(session, Lead) == made.leads > 0
        # every conversation has messages, and its last_message_at is its newest message
        newest = select(_M.conversation_id, func.max(_M.created_at).label("at")).group_by(_M.conversation_id).subquery()
        mismatched = count(session, Conversation, ~Conversation.id.in_(
            select(newest.c.conversation_id).where(newest.c.at == Conversation.last_message_at)))  # fmt: skip
        assert mismatched == 0
        assert count(session, _M, _M.sender_kind == SenderKind.SECRETARY, _M.sender_user_id.is_(None)) == 0
        assert count(session, _M, _M.sender_kind == SenderKind.PATIENT, _M.processed_at.is_(None)) == 0
        assert count(session, _M, _M.created_at > func.now()) == 0
        assert session.scalar(select(func.count(func.distinct(Conversation.phone_number)))) == 50
        assert session.scalar(select(func.max(Lead.maturity_score))) <= 100
        assert count(session, Conversation, ~Conversation.phone_number.regexp_match(r"^55\d{2}9\d{8}$")) == 0
        # converted_at: set exactly for the SCHEDULED leads, after the lead and not in the future
        scheduled = Lead.status == LeadStatus.SCHEDULED
        assert count(session, Lead, scheduled != Lead.converted_at.is_not(None)) == 0
        assert count(session, Lead, (Lead.converted_at < Lead.created_at) | (Lead.converted_at > func.now())) == 0


# The patients' messages the bot answered: the newest of each burst, followed by a bot's message.
ANSWERED_BY_BOT = """
SELECT id FROM (SELECT id, sender_kind, lead(sender_kind) OVER (PARTITION BY conversation_id
                                                                 ORDER BY created_at, id) AS next_sender
                FROM conversation_messages) m
WHERE sender_kind = 'PATIENT' AND next_sender = 'BOT'
"""


def test_the_generated_clinic_fills_every_table_the_metrics_read(backends):
    made = generate_data(400, 3000, 3, seed=21, progress=None)

    with session_scope() as session:
        for model in (TurnInsight, LLMInteraction, CompetitorMention, Feedback):
            assert count(session, model) == made.rows[model.__tablename__] > 0
        answered = set(session.scalars(text(ANSWERED_BY_BOT)))
        insights = session.execute(select(TurnInsight.message_id, TurnInsight.created_at, _M.created_at,
                                          _M.sender_kind).join(_M, _M.id == TurnInsight.message_id)).all()  # fmt: skip
        assert {row.message_id for row in insights} == answered and len(insights) == len(answered)
        assert all(row[1] == row[2] and row.sender_kind == SenderKind.PATIENT for row in insights)
        assert session.scalar(select(func.count(func.distinct(TurnInsight.sentiment)))) == 3
        assert session.scalar(select(func.count(func.distinct(TurnInsight.intent)))) >= 8
        # a call for most replies (the response cache answered the others), and now and then a failed one
        calls = session.execute(select(func.count().filter(LLMInteraction.error.is_(None)),
                                       func.count(LLMInteraction.error), func.sum(LLMInteraction.cost_usd),
                                       func.count(func.distinct(LLMInteraction.prompt_version)))).one()  # fmt: skip
        assert 0.8 * len(answered) < calls[0] <= len(answered) and calls[2] > 0 and calls[3] == 2
        # every mention names its competitor in the patient's message, as the turn's matcher reads it
        names = list(vocabulary.COMPETITORS + vocabulary.RETIRED_COMPETITORS)
        mentions = session.execute(select(CompetitorMention.competitor, CompetitorMention.created_at, _M.body,
                                          _M.created_at, _M.sender_kind)
                                   .join(_M, _M.id == CompetitorMention.message_id)).all()  # fmt: skip
        assert all(competitors_named(body, names) == [name] and at == sent and sender == SenderKind.PATIENT
                   for name, at, body, sent, sender in mentions)  # fmt: skip
        settings = get_clinic_settings(session)
        assert settings.competitors == list(vocabulary.COMPETITORS)
        assert settings.business_hours == records.CLINIC_HOURS
        assert min(settings.monthly_operational_cost, settings.implementation_cost,
                   settings.avg_transaction_value, settings.secretary_hourly_cost) > 0  # fmt: skip
        # feedback comes after a CLOSED conversation's last message
        late = count(session, Feedback, Feedback.conversation_id == Conversation.id,
                     (Conversation.status != ConversationStatus.CLOSED)
                     | (Feedback.created_at < Conversation.last_message_at))  # fmt: skip
        assert late == 0
        assert {row[0] for row in session.execute(select(Lead.status).distinct())} == set(LeadStatus)
        assert {row[0] for row in session.execute(select(Lead.source).distinct())} == set(LeadSource)
        parity = check_rollups(session)
        assert parity.exact and parity.hours > 0 and parity.waits > 0, parity
        hourly = session.scalar(text("SELECT sum(patient_messages + bot_messages + secretary_messages) "
                                     "FROM metric_message_hourly"))  # fmt: skip
        assert hourly == 3000


def test_every_metric_has_figures_for_the_generated_clinic(backends, metrics_api, make_user, login):
    generate_data(400, 3000, 3, seed=21, progress=None)
    admin = bearer(login(make_user(Role.ADMIN))["access_token"])
    today = datetime.now(records.CLINIC_ZONE).date()
    period = {"start_date": str(today - timedelta(days=records.DAYS_SPREAD)), "end_date": str(today)}

    def get(name: str, path: str = "/api/v1/metrics/") -> dict:
        response = metrics_api.get(path + name, headers=admin, query_string=period)
        assert response.status_code == 200, (name, response.json)
        return response.json

    assert get("nps")["responses"] > 0 and get("sentiment")["negative"] > 0
    topics = get("topics")
    assert topics["turns"] > 0 and len(topics["topics"]) > len(topics["intents"]) >= 8
    competitors = get("competitor-mentions")
    assert competitors["total_mentions"] > 0 and all(row["listed"] or row["name"] in vocabulary.RETIRED_COMPETITORS
                                                     for row in competitors["competitors"])  # fmt: skip
    ai = get("ai")
    assert ai["interactions"] > 0 and ai["estimated_cost_usd"] > 0 and len(ai["by_prompt_version"]) == 2
    assert get("conversion-rate")["converted"] > 0
    assert all(row["count"] > 0 for row in get("leads-by-source")["sources"])
    assert get("lead-retention")["returning_leads"] > 0 and get("maturity-distribution")["n"] > 0
    assert get("abandonment-rate")["abandoned"] > 0
    assert get("cost-per-lead")["cost_per_lead"] > 0 and get("roi")["bot_answers"] > 0 and get("ltv")["ltv"] > 0
    assert get("response-time")["business_hours"]["avg_seconds"] > 0
    assert get("sla-compliance")["breached_unanswered"] >= 0 and get("sla-compliance")["within_sla"] > 0
    rate = get("bot-response-rate")
    assert rate["bot_resolved"] > rate["transferred"] > 0
    board = get("leaderboard", "/api/v1/metrics/")
    assert board["secretaries"] == 3 and any(row["nps"] is not None for row in board["leaderboard"])
    assert get("dashboard/summary", "/api/v1/")["nps"] is not None


def test_the_api_lists_and_searches_generated_conversations(backends, secretary_api, make_user, login):
    made = generate_data(50, 400, 2, seed=11, progress=None)
    admin = bearer(login(make_user(Role.ADMIN))["access_token"])
    secretary = secretary_api.post("/api/v1/auth/login", json={"email": made.user_emails[0], "password": DEV_PASSWORD})
    assert secretary.status_code == 200
    with session_scope() as session:
        theirs = count(
            session, Conversation, Conversation.assigned_to_user_id == User.id, User.email == made.user_emails[0]
        )

    listed = secretary_api.get("/api/v1/conversations", headers=admin, query_string={"limit": 100}).json
    mine = secretary_api.get("/api/v1/conversations", headers=bearer(secretary.json["access_token"])).json
    found = secretary_api.get("/api/v1/conversations/search", headers=admin, query_string={"q": "consulta"}).json

    assert listed["total"] == 50 and all(item["last_message"] for item in listed["items"])
    assert mine["total"] == theirs
    assert 0 < found["total"] < 50


def test_the_same_seed_gives_the_same_conversations():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    secretaries = [records.Secretary(records.new_id(random.Random(1)), "Ana")]

    def build(seed: int) -> list:
        rng = random.Random(seed)
        return [records.build_conversation(rng, n, 12, secretaries, now) for n in range(20)]

    assert build(3) == build(3) != build(4)
    bodies = [message[8] for built in build(3) for message in built.messages]
    assert len(set(bodies)) > 100  # varied text, not a handful of fixed lines


def test_generate_data_command_and_its_progress_bar(backends, capsys):
    assert main(["generate-data", "--conversations", "20", "--messages", "60", "--users", "1", "--seed", "3"]) == 0

    captured = capsys.readouterr()
    assert "20 conversations" in captured.out and "60 messages" in captured.out
    assert "messages [" in captured.err and "100%" in captured.err


def test_the_progress_bar_prints_a_line_per_tenth_when_not_on_a_terminal():
    out = io.StringIO()
    bar = ProgressBar("messages", 100, out)
    for _ in range(20):
        bar.advance(5)
    bar.close()

    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("messages [" + "#" * 30 + "] 100% 100/100")


def test_bad_counts_are_refused_before_anything_is_written(backends):
    assert main(["generate-data", "--conversations", "0", "--messages", "10"]) == 1
    with session_scope() as session:
        assert count(session, User) == 0

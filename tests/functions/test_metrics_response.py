"""Response time, SLA compliance and the bot's share of answers, against a clinic counted by hand.

The clinic (São Paulo wall clock; the period is Monday 2026-11-09 and Tuesday 2026-11-10, the previous one the
weekend before; hours weekdays 08-12 and 13-18, Saturday 08-12). Each wait: its seconds, its business seconds.
  C1 Ana   Mon 09:00:00, 09:00:30, 09:01:00 patient (one burst) -> 09:02 bot     W1 120, 120 (first)
           Mon 11:50 patient -> 13:10 Ana                                      W2 4800, 600 + 600 (no lunch)
  C2 Bia   Mon 17:58 patient -> Tue 08:02 Bia                                  W3 50640, 120 + 120 (first)
           Tue 10:00:00 patient -> 10:00:45 bot                                W4 45, 45
  C3 none  Tue 23:58 patient -> Wed 00:03 bot (belongs to Tuesday)             W5 300, 0 (first)
  C4 Ana   Tue 14:00 patient, never answered                                   W6 unanswered (first)
  C5 Ana   Sat 11-07 11:00 patient -> 11:01 bot (previous period)              W7 60, 60 (first)
  C6 none  Sun 11-08 23:58 patient -> Mon 00:06 bot (previous; in the period in UTC)  W8 480, 0 (first)
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.clinic.service import get_clinic_settings
from shared.conversations.models import SenderKind
from shared.db import session_scope
from shared.metrics.context import MetricsContext
from shared.metrics.period import Period
from shared.metrics.response import BotResponseRateOut, ResponseTimeOut, SlaComplianceOut, wait_stats
from tests.functions.metrics_support import SAO_PAULO, add_conversation, add_message, at

PATIENT, BOT, SECRETARY = SenderKind.PATIENT, SenderKind.BOT, SenderKind.SECRETARY
PERIOD = {"start_date": "2026-11-09", "end_date": "2026-11-10"}


@pytest.fixture
def clinic(people):
    ana, bia = people.ana.id, people.bia.id
    with session_scope() as session:
        c1 = add_conversation(session, created_at=at("2026-11-09 09:00"), assigned_to=ana)
        for when in ("09:00:00", "09:00:30", "09:01:00"):
            add_message(session, c1, at(f"2026-11-09 {when}"), PATIENT)
        add_message(session, c1, at("2026-11-09 09:02"), BOT)
        add_message(session, c1, at("2026-11-09 11:50"), PATIENT)
        add_message(session, c1, at("2026-11-09 13:10"), SECRETARY, user_id=ana)
        add_message(session, c1, at("2026-11-09 13:11"), SECRETARY, user_id=ana)  # ours after ours: no wait
        c2 = add_conversation(session, created_at=at("2026-11-09 17:58"), assigned_to=bia)
        add_message(session, c2, at("2026-11-09 17:58"), PATIENT)
        add_message(session, c2, at("2026-11-10 08:02"), SECRETARY, user_id=bia)
        add_message(session, c2, at("2026-11-10 10:00:00"), PATIENT)
        add_message(session, c2, at("2026-11-10 10:00:45"), BOT)
        c3 = add_conversation(session, created_at=at("2026-11-10 23:58"))
        add_message(session, c3, at("2026-11-10 23:58"), PATIENT)
        add_message(session, c3, at("2026-11-11 00:03"), BOT)
        c4 = add_conversation(session, created_at=at("2026-11-10 14:00"), assigned_to=ana)
        add_message(session, c4, at("2026-11-10 14:00"), PATIENT)
        c5 = add_conversation(session, created_at=at("2026-11-07 11:00"), assigned_to=ana)
        add_message(session, c5, at("2026-11-07 11:00"), PATIENT)
        add_message(session, c5, at("2026-11-07 11:01"), BOT)
        c6 = add_conversation(session, created_at=at("2026-11-08 23:58"))
        add_message(session, c6, at("2026-11-08 23:58"), PATIENT)
        add_message(session, c6, at("2026-11-09 00:06"), BOT)
    return people


def get(client, path: str, headers: dict, **params) -> dict:
    response = client.get(f"/api/v1/metrics/{path}", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def durations(body: dict) -> tuple:
    return body["avg_seconds"], body["median_seconds"], body["p95_seconds"]


def test_response_time_of_the_clinic_against_the_previous_period(metrics_api, clinic):
    body = get(metrics_api, "response-time", clinic.admin_h, **PERIOD)
    # Answered W1-W5: 45, 120, 300, 4800, 50640. Mean 55905 / 5; median the third; p95 at rank 0.95 x 4 = 3.8:
    # 4800 + 0.8 x (50640 - 4800). W6 is unanswered; W7 and W8 are the previous period's.
    assert durations(body) == (11181.0, 300.0, 41472.0)
    assert body["n"] == 5 and body["unanswered"] == 1 and body["responder"] is None
    # First waits W1 120, W3 50640, W5 300: mean 51060 / 3, median 300, p95 at 1.9: 300 + 0.9 x 50340.
    assert body["first_response"] == {"avg_seconds": 17020.0, "median_seconds": 300.0, "p95_seconds": 45606.0,
                                      "n": 3}  # fmt: skip
    # Business seconds 120, 1200 (lunch 12-13 left out), 240 (the night left out), 45, 0 (closed at midnight):
    # sorted 0, 45, 120, 240, 1200: mean 1605 / 5, median 120, p95 240 + 0.8 x 960.
    assert body["business_hours"] == {"avg_seconds": 321.0, "median_seconds": 120.0, "p95_seconds": 1008.0}
    # Previous: W7 60 (business 60), W8 480 (business 0, Sunday night): p95 60 + 0.95 x 420; business 0 + 0.95 x 60.
    assert body["previous"] == {
        "avg_seconds": 270.0, "median_seconds": 270.0, "p95_seconds": 459.0, "unanswered": 0, "n": 2,
        "first_response": {"avg_seconds": 270.0, "median_seconds": 270.0, "p95_seconds": 459.0, "n": 2},
        "business_hours": {"avg_seconds": 30.0, "median_seconds": 30.0, "p95_seconds": 57.0},
    }  # fmt: skip
    # (11181 - 270) / 270, (300 - 270) / 270, (41472 - 459) / 459; unanswered was 0: no delta.
    assert body["delta_pct"] == {"avg_seconds": 4041.1, "median_seconds": 11.1, "p95_seconds": 8935.3,
                                 "unanswered": None}  # fmt: skip
    assert (body["start_date"], body["tz"], body["user_id"]) == ("2026-11-09", "America/Sao_Paulo", None)
    assert ResponseTimeOut.model_validate(body).first_response.n == 3  # the answer is what the document says


def test_a_wait_belongs_to_the_day_it_started_in_the_zone(metrics_api, clinic):
    tuesday = get(metrics_api, "response-time", clinic.admin_h, start_date="2026-11-10", end_date="2026-11-10")
    # W4 45 and W5 300 (23:58 Tuesday, answered 00:03 Wednesday); W6 unanswered.
    assert (tuesday["avg_seconds"], tuesday["median_seconds"]) == (172.5, 172.5)
    assert tuesday["n"] == 2 and tuesday["unanswered"] == 1
    # Monday, the previous day: W1 120, W2 4800, W3 50640 (W8 answered Monday belongs to Sunday).
    assert tuesday["previous"]["n"] == 3 and tuesday["previous"]["avg_seconds"] == 18520.0
    wednesday = get(metrics_api, "response-time", clinic.admin_h, start_date="2026-11-11", end_date="2026-11-11")
    assert durations(wednesday) == (None, None, None) and wednesday["n"] == 0 and wednesday["unanswered"] == 0
    assert wednesday["first_response"]["n"] == 0 and wednesday["business_hours"]["avg_seconds"] is None


def test_another_zone_moves_the_waits_between_days(metrics_api, clinic):
    body = get(metrics_api, "response-time", clinic.admin_h, tz="UTC", **PERIOD)
    # UTC days 9-10 are São Paulo's 11-08 21:00 to 11-10 21:00: W8 (02:58 UTC on the 9th) comes in, W5 (02:58 UTC
    # on the 11th) goes out. 45, 120, 480, 4800, 50640: mean 56085 / 5, median 480.
    assert body["n"] == 5 and body["avg_seconds"] == 11217.0 and body["median_seconds"] == 480.0
    assert body["unanswered"] == 1 and body["tz"] == "UTC"
    assert body["previous"]["n"] == 1 and body["previous"]["avg_seconds"] == 60.0  # W7 alone


def test_a_burst_of_patient_messages_is_one_wait_from_its_first(metrics_api, clinic):
    body = get(metrics_api, "response-time", clinic.admin_h, start_date="2026-11-09", end_date="2026-11-09",
               responder="bot")  # fmt: skip
    # Monday's bot-answered waits: W1 only, 09:00:00 to 09:02 (not from 09:00:30 or 09:01).
    assert body["n"] == 1 and durations(body) == (120.0, 120.0, 120.0)


def test_the_responder_narrows_to_the_bots_or_the_secretaries_answers(metrics_api, clinic):
    human = get(metrics_api, "response-time", clinic.admin_h, responder="human", **PERIOD)
    # W2 4800, W3 50640: p95 4800 + 0.95 x 45840. Business 1200, 240: p95 240 + 0.95 x 960. First: W3.
    assert human["n"] == 2 and durations(human) == (27720.0, 27720.0, 48348.0)
    assert human["business_hours"] == {"avg_seconds": 720.0, "median_seconds": 720.0, "p95_seconds": 1152.0}
    assert human["first_response"] == {"avg_seconds": 50640.0, "median_seconds": 50640.0, "p95_seconds": 50640.0,
                                       "n": 1}  # fmt: skip
    assert human["unanswered"] == 1 and human["responder"] == "human"
    bot = get(metrics_api, "response-time", clinic.admin_h, responder="bot", **PERIOD)
    # W1 120, W4 45, W5 300: p95 at 1.9: 120 + 0.9 x 180. Business 0, 45, 120: p95 45 + 0.9 x 75. First: W1, W5.
    assert bot["n"] == 3 and durations(bot) == (155.0, 120.0, 282.0)
    assert bot["business_hours"] == {"avg_seconds": 55.0, "median_seconds": 45.0, "p95_seconds": 112.5}
    assert bot["first_response"] == {"avg_seconds": 210.0, "median_seconds": 210.0, "p95_seconds": 291.0, "n": 2}
    refused = metrics_api.get("/api/v1/metrics/response-time", query_string={"responder": "robot"},
                              headers=clinic.admin_h)  # fmt: skip
    assert refused.status_code == 422


def test_a_secretary_sees_the_waits_of_her_conversations_only(metrics_api, clinic):
    ana = get(metrics_api, "response-time", clinic.ana_h, **PERIOD)
    # Ana's C1 and C4: W1 120, W2 4800 (p95 120 + 0.95 x 4680), W6 unanswered; previous C5's W7 60.
    assert ana["n"] == 2 and durations(ana) == (2460.0, 2460.0, 4566.0) and ana["unanswered"] == 1
    assert ana["first_response"] == {"avg_seconds": 120.0, "median_seconds": 120.0, "p95_seconds": 120.0, "n": 1}
    assert ana["previous"]["avg_seconds"] == 60.0 and ana["delta_pct"]["avg_seconds"] == 4000.0
    assert ana["user_id"] == str(clinic.ana.id)
    forbidden = metrics_api.get("/api/v1/metrics/response-time", query_string={**PERIOD, "user_id": clinic.bia.id},
                                headers=clinic.ana_h)  # fmt: skip
    assert forbidden.status_code == 403
    by_admin = get(metrics_api, "response-time", clinic.admin_h, user_id=clinic.ana.id, **PERIOD)
    assert durations(by_admin) == durations(ana) and by_admin["n"] == 2 and by_admin["user_id"] == str(clinic.ana.id)
    bia = get(metrics_api, "sla-compliance", clinic.bia_h, **PERIOD)
    # Bia's C2: W3 50640 s is over 300, its business 240 within; W4 45 within both.
    assert (bia["total_responses"], bia["within_sla"], bia["compliance_rate"]) == (2, 1, 50.0)
    assert bia["business_hours"] == {"within_sla": 2, "compliance_rate": 100.0}


def test_sla_compliance_in_elapsed_and_in_business_time(metrics_api, secretary_api, clinic):
    body = get(metrics_api, "sla-compliance", clinic.admin_h, **PERIOD)
    # Within 300 s: W4 45, W1 120, W5 300 (the target itself counts) of 5. Business: 0, 45, 120, 240 of 5.
    assert (body["sla_target_seconds"], body["total_responses"], body["within_sla"], body["compliance_rate"]) == (
        300, 5, 3, 60.0)  # fmt: skip
    assert body["business_hours"] == {"within_sla": 4, "compliance_rate": 80.0}
    assert body["breached_unanswered"] == 1 and body["n"] == 5  # W6, open for weeks
    # Previous: W7 60 within, W8 480 not; business 60 and 0 both within.
    assert body["previous"] == {"total_responses": 2, "within_sla": 1, "compliance_rate": 50.0, "n": 2,
                                "business_hours": {"within_sla": 2, "compliance_rate": 100.0},
                                "breached_unanswered": 0}  # fmt: skip
    assert body["delta_pct"]["compliance_rate"] == 20.0  # (60 - 50) / 50
    assert SlaComplianceOut.model_validate(body).business_hours.within_sla == 4
    human = get(metrics_api, "sla-compliance", clinic.admin_h, responder="human", **PERIOD)
    assert (human["total_responses"], human["within_sla"], human["compliance_rate"]) == (2, 0, 0.0)
    assert human["business_hours"] == {"within_sla": 1, "compliance_rate": 50.0}  # W3's 240
    changed = secretary_api.put("/api/v1/clinic/settings", json={"sla_seconds": 120}, headers=clinic.admin_h)
    assert changed.status_code == 200
    tighter = get(metrics_api, "sla-compliance", clinic.admin_h, **PERIOD)
    # Within 120 s: W4 45, W1 120; business 0, 45, 120.
    assert (tighter["sla_target_seconds"], tighter["within_sla"], tighter["compliance_rate"]) == (120, 2, 40.0)
    assert tighter["business_hours"] == {"within_sla": 3, "compliance_rate": 60.0}


def test_an_open_wait_breaches_the_sla_only_once_older_than_it(metrics_api, people):
    now = datetime.now(UTC)
    with session_scope() as session:
        for minutes in (1, 10):  # one open a minute, one ten minutes
            conversation = add_conversation(session, created_at=now - timedelta(minutes=minutes))
            add_message(session, conversation, now - timedelta(minutes=minutes), PATIENT)
    today = now.astimezone(SAO_PAULO).date()
    body = get(metrics_api, "sla-compliance", people.admin_h, start_date=str(today - timedelta(days=1)),
               end_date=str(today))  # fmt: skip
    assert body["breached_unanswered"] == 1 and body["total_responses"] == 0 and body["compliance_rate"] is None


def test_bot_response_rate_counts_who_answered_each_wait(metrics_api, clinic):
    body = get(metrics_api, "bot-response-rate", clinic.admin_h, **PERIOD)
    # Patients' messages Monday-Tuesday: C1 3 + 1, C2 2, C3 1, C4 1. Waits: bot W1, W4, W5; secretaries W2, W3.
    assert (body["total_messages"], body["bot_resolved"], body["transferred"], body["bot_response_rate"]) == (
        8, 3, 2, 60.0)  # fmt: skip
    assert body["unanswered"] == 1 and body["n"] == 5
    assert BotResponseRateOut.model_validate(body).transferred == 2
    # Previous: C5 and C6 one message each, both answered by the bot.
    assert body["previous"] == {"total_messages": 2, "bot_resolved": 2, "transferred": 0, "bot_response_rate": 100.0,
                                "unanswered": 0, "n": 2}  # fmt: skip
    assert body["delta_pct"]["bot_response_rate"] == -40.0 and body["delta_pct"]["total_messages"] == 300.0
    ana = get(metrics_api, "bot-response-rate", clinic.ana_h, **PERIOD)
    # Ana's C1 (4 messages; W1 bot, W2 Ana) and C4 (1 message, unanswered).
    assert (ana["total_messages"], ana["bot_resolved"], ana["transferred"], ana["bot_response_rate"]) == (5, 1, 1, 50.0)
    monday = get(metrics_api, "bot-response-rate", clinic.admin_h, start_date="2026-11-09", end_date="2026-11-09")
    # Monday: C1's 4 and C2's 17:58; W1 by the bot, W2 and W3 by secretaries: 1 / 3.
    assert (monday["total_messages"], monday["bot_response_rate"]) == (5, 33.3)


def _percentile(values: list[float], q: float) -> float:
    """percentile_cont's interpolation."""
    ordered, rank = sorted(values), q * (len(values) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_business_time_in_sql_agrees_with_the_calendar(backends):
    # 60 waits over a week with a weekend and a holiday (Friday 2026-11-20), some over nights and lunches.
    picker, spans = random.Random(11), []
    with session_scope() as session:
        settings = get_clinic_settings(session)
        for _ in range(60):
            start = at("2026-11-16 00:00") + timedelta(minutes=picker.randrange(7 * 24 * 60))
            end = start + timedelta(minutes=picker.choice([1, 7, 45, 70, 300, 900, 2000]))
            conversation = add_conversation(session, created_at=start)
            add_message(session, conversation, start, PATIENT)
            add_message(session, conversation, end, BOT)
            spans.append((start, end))
        ctx = MetricsContext(Period(date(2026, 11, 16), date(2026, 11, 22), SAO_PAULO), None, settings,
                             datetime.now(UTC))  # fmt: skip
        stats = wait_stats(session, ctx)
    expected = [ctx.calendar.business_seconds(start, end) for start, end in spans]
    assert stats.business.n == 60 and 0 < sum(expected) < sum((end - start).total_seconds() for start, end in spans)
    assert stats.business.avg == pytest.approx(sum(expected) / 60)
    assert stats.business.median == pytest.approx(_percentile(expected, 0.5))
    assert stats.business.p95 == pytest.approx(_percentile(expected, 0.95))

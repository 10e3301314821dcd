"""Anomalies (card 142) and the demand forecast (card 143), on histories built by hand."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert

from shared.clinic.service import get_clinic_settings
from shared.conversations.models import ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.leads.models import LeadStatus
from shared.metrics.anomalies import find_anomalies
from shared.metrics.context import MetricsContext
from shared.metrics.period import Period
from tests.functions.metrics_support import SAO_PAULO, add_conversation, add_lead, add_message, at

ANOMALIES_URL = "/api/v1/alerts/anomalies"
FORECAST_URL = "/api/v1/metrics/forecast"
CHECK_DAY = "2026-08-19"  # a Wednesday; its baseline: 08-12, 08-05, 07-29 (07-22 is a closure)
BASELINE_DAYS = ("2026-07-29", "2026-08-05", "2026-08-12")


# --- anomalies ----------------------------------------------------------------------------------------------


def _answered_visit(session, day: str, answer_after: timedelta, times: list[str]) -> None:
    """A conversation opened at the first time, each patient message answered by the bot `answer_after` later."""
    conversation = add_conversation(session, created_at=at(f"{day} {times[0]}"))
    for clock in times:
        asked = at(f"{day} {clock}")
        add_message(session, conversation, asked, SenderKind.PATIENT)
        add_message(session, conversation, asked + answer_after, SenderKind.BOT)


def _leads(session, day: str, created: int, converted: int, deleted: int = 0) -> None:
    for n in range(created + deleted):
        won = n < converted
        add_lead(session, created_at=at(f"{day} 11:00"), status=LeadStatus.SCHEDULED if won else LeadStatus.NEW,
                 converted_at=at(f"{day} 15:00") if won else None,
                 deleted_at=at(f"{day} 12:00") if n >= created else None)  # fmt: skip


@pytest.fixture
def weekday_history(people, secretary_api):
    closure = {"closures": [{"start": "2026-07-22", "reason": "reforma"}]}
    assert secretary_api.put("/api/v1/clinic/settings", json=closure, headers=people.admin_h).status_code == 200
    minute = timedelta(minutes=1)
    with session_scope() as session:
        for day in BASELINE_DAYS:  # each: 2 conversations, 4 patient messages answered in 60 s, 5 leads, 2 won
            _answered_visit(session, day, minute, ["09:00", "10:00"])
            _answered_visit(session, day, minute, ["09:30", "10:30"])
            _leads(session, day, created=5, converted=2)
        closed = add_conversation(session, created_at=at("2026-07-22 09:00"))  # would skew every baseline
        for n in range(40):
            add_message(session, closed, at("2026-07-22 09:00") + n * minute, SenderKind.PATIENT)
        _leads(session, "2026-07-22", created=10, converted=10)
        add_conversation(session, created_at=at("2026-08-18 23:59"))  # Tuesday, not the day checked
        # The day: 1 conversation, 10 patient messages answered in 120 s (the last wait ends at 00:00 on 08-20
        # and still belongs to 08-19), 5 live leads (+1 deleted), none won.
        _answered_visit(session, CHECK_DAY, 2 * minute, [f"{h:02d}:00" for h in range(8, 17)] + ["23:58"])
        _leads(session, CHECK_DAY, created=5, converted=0, deleted=1)
    return people


def test_anomalies_compare_the_day_with_the_same_weekday(metrics_api, weekday_history):
    response = metrics_api.get(ANOMALIES_URL, query_string={"date": CHECK_DAY}, headers=weekday_history.admin_h)

    assert response.status_code == 200, response.json
    found = response.json
    assert (found["date"], found["closed_day"]) == (CHECK_DAY, False)
    assert (found["start_date"], found["end_date"]) == (CHECK_DAY, CHECK_DAY)
    assert found["baseline_days"] == ["2026-08-12", "2026-08-05", "2026-07-29"]  # 07-22 was closed
    fields = ("current", "baseline", "deviation", "severity", "direction", "bad", "flagged")
    numbers = {item["metric"]: tuple(item[name] for name in fields) for item in found["checked"]}
    assert numbers == {
        "patient_messages": (10.0, 4.0, 150.0, "critical", "up", False, True),  # 12 messages / 3 days
        "new_conversations": (1.0, 2.0, -50.0, "medium", "down", True, True),  # exactly 50 % is not "high"
        "new_leads": (5.0, 5.0, 0.0, None, None, None, False),  # the deleted lead does not count
        "conversions": (0.0, 2.0, -100.0, "high", "down", True, True),
        "conversion_rate": (0.0, 40.0, -100.0, "high", "down", True, True),  # 0 / 5 against 6 / 15
        "avg_response_seconds": (120.0, 60.0, 100.0, "high", "up", True, True),  # 10 waits of 120 s; 12 of 60 s
        "nps": (None, None, None, None, None, None, False),
    }
    nps = next(item for item in found["checked"] if item["metric"] == "nps")
    assert nps["reason"] == "fewer than 5 observations"
    assert [item["metric"] for item in found["anomalies"]] == ["patient_messages", "new_conversations", "conversions",
                                                               "conversion_rate", "avg_response_seconds"]  # fmt: skip
    assert found["anomalies"][0] == {"metric": "patient_messages", "date": CHECK_DAY, "current": 10.0,
                                     "baseline": 4.0, "deviation": 150.0, "severity": "critical", "direction": "up",
                                     "bad": False}  # fmt: skip


def test_find_anomalies_serves_a_job_without_a_request(weekday_history):
    with session_scope() as session:
        day = date.fromisoformat(CHECK_DAY)
        ctx = MetricsContext(Period(day, day, SAO_PAULO), None, get_clinic_settings(session), datetime.now(SAO_PAULO))
        found = find_anomalies(session, ctx, day)

    assert [(item["metric"], item["severity"]) for item in found] == [
        ("patient_messages", "critical"), ("new_conversations", "medium"), ("conversions", "high"),
        ("conversion_rate", "high"), ("avg_response_seconds", "high")]  # fmt: skip


def test_a_closed_day_flags_nothing_and_the_default_day_is_yesterday(metrics_api, weekday_history):
    closed = metrics_api.get(ANOMALIES_URL, query_string={"date": "2026-07-22"}, headers=weekday_history.admin_h)
    default = metrics_api.get(ANOMALIES_URL, headers=weekday_history.admin_h)

    assert closed.status_code == 200
    assert (closed.json["closed_day"], closed.json["anomalies"]) == (True, [])
    assert all(item["reason"] == "the clinic was closed" for item in closed.json["checked"])
    yesterday = (datetime.now(SAO_PAULO).date() - timedelta(days=1)).isoformat()
    assert default.status_code == 200
    assert (default.json["date"], default.json["end_date"]) == (yesterday, yesterday)


def test_anomalies_are_for_admins_only(metrics_api, people):
    assert metrics_api.get(ANOMALIES_URL, headers=people.ana_h).status_code == 403
    assert metrics_api.get(ANOMALIES_URL).status_code == 401


# --- forecast -----------------------------------------------------------------------------------------------

WEEKLY_SHAPE = (40, 36, 30, 32, 28, 12, 4)  # Monday .. Sunday
HISTORY_START = date(2026, 10, 5)  # a Monday; 8 weeks end on Sunday 2026-11-29


def _patient_messages(session, first: date, days: int) -> None:
    """The weekly shape with a seeded +-4 of noise a day, in one conversation, written in one INSERT."""
    noise = random.Random(0)
    conversation = add_conversation(session, created_at=at(f"{first.isoformat()} 07:00"))
    rows = []
    for n in range(days):
        day = first + timedelta(days=n)
        opens = at(f"{day.isoformat()} 08:00")
        count = WEEKLY_SHAPE[day.weekday()] + noise.randint(-4, 4)
        rows += [{"conversation_id": conversation.id, "direction": MessageDirection.INBOUND,
                  "sender_kind": SenderKind.PATIENT, "body": "oi", "created_at": opens + timedelta(minutes=10 * k)}
                 for k in range(count)]  # fmt: skip
    session.execute(insert(ConversationMessage), rows)


def test_the_forecast_repeats_the_weekly_shape_and_backtests_itself(metrics_api, people):
    with session_scope() as session:
        _patient_messages(session, HISTORY_START, 56)
    params = {"end_date": "2026-11-29", "days": 7}
    response = metrics_api.get(FORECAST_URL, query_string=params, headers=people.admin_h)
    short = metrics_api.get(FORECAST_URL, query_string={**params, "history_days": 28}, headers=people.admin_h)

    assert response.status_code == 200, response.json
    found = response.json
    assert found["history"] == {"start_date": "2026-10-05", "end_date": "2026-11-29", "days": 56, "needed": 21}
    assert (found["start_date"], found["end_date"], found["reason"]) == ("2026-10-05", "2026-11-29", None)
    points = found["forecast"]
    assert [p["date"] for p in points] == ["2026-11-30", *(f"2026-12-0{d}" for d in range(1, 7))]
    for point, expected in zip(points, WEEKLY_SHAPE, strict=True):  # 11-30 is a Monday
        assert abs(point["predicted_messages"] - expected) <= 3, (point, expected)
        assert point["lower"] <= point["predicted_messages"] <= point["upper"] and point["confidence"] == 0.8
        # Uniform noise of +-4 has a sigma of 2.6: an 80 % interval about 2 x 1.28 x 2.6 = 6.6 wide.
        assert 4 <= point["upper"] - point["lower"] <= 12, point
    predicted = [p["predicted_messages"] for p in points]
    assert predicted.index(max(predicted)) == 0 and predicted.index(min(predicted)) == 6
    backtest = found["backtest"]
    assert (backtest["start_date"], backtest["end_date"]) == ("2026-11-16", "2026-11-29")
    # Same weekday last week carries its week's noise twice; the model averages it out.
    assert backtest["model"]["mae"] < backtest["naive_same_weekday"]["mae"], backtest
    assert backtest["model_beats_naive"] is True
    assert 0 < backtest["model"]["mape"] < 15
    # 28 days forecast too, but the backtest needs 21 + 14.
    assert short.status_code == 200
    assert (len(short.json["forecast"]), short.json["backtest"], short.json["history"]["days"]) == (7, None, 28)


def test_the_forecast_says_when_the_history_is_too_short(metrics_api, people):
    with session_scope() as session:
        _patient_messages(session, date(2026, 11, 20), 10)
    found = metrics_api.get(FORECAST_URL, query_string={"end_date": "2026-11-29"}, headers=people.admin_h)
    ana = metrics_api.get(FORECAST_URL, query_string={"end_date": "2026-11-29"}, headers=people.ana_h)

    assert found.status_code == 200
    assert (found.json["forecast"], found.json["backtest"]) == ([], None)
    assert found.json["history"] == {"start_date": "2026-11-20", "end_date": "2026-11-29", "days": 10, "needed": 21}
    assert "10 dias" in found.json["reason"] and "21" in found.json["reason"]
    assert "10 days" in found.json["reason_en"] and "21 are needed" in found.json["reason_en"]
    # Nothing is Ana's: no history at all.
    assert (ana.json["history"]["days"], ana.json["history"]["start_date"], ana.json["forecast"]) == (0, None, [])


def test_forecast_parameters_are_bounded_and_scoped(metrics_api, people):
    for params in ({"days": 0}, {"days": 31}, {"history_days": 20}, {"history_days": 366},
                   {"start_date": "2026-11-10", "end_date": "2026-11-09"}):  # fmt: skip
        assert metrics_api.get(FORECAST_URL, query_string=params, headers=people.admin_h).status_code == 422, params
    bia = {"user_id": str(people.bia.id)}
    assert metrics_api.get(FORECAST_URL, query_string=bia, headers=people.ana_h).status_code == 403
    assert metrics_api.get(FORECAST_URL).status_code == 401

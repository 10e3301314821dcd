"""Message volume, the heatmap and peak hours (cards 128, 132, 146), against a clinic counted by hand.

The period is Monday 2026-11-09 and Tuesday 2026-11-10 on São Paulo's wall clock (UTC-3); P is a patient's
message, B the bot's, S a secretary's:
  C1 Ana   Sun 11-08 23:59 P (the day before: Monday in UTC)   Mon 00:00 P   00:01 B   09:15 P   09:40 P   09:45 S
  C2 Bia   Mon 09:05 P   14:00 P   Tue 09:30 P   09:31 B   23:59 P (Wednesday in UTC)   Wed 11-11 00:00 P (after)
  C3 none  Tue 21:30 P
In São Paulo: Monday 5 P + 2 ours = 7, Tuesday 3 P + 1 ours = 4; 11 in all, 8 of them patients'.
Read in Manaus (UTC-4) the same two dates start and end an hour later on São Paulo's clock: Sunday 23:59, Monday
00:00 and 00:01 fall out, Wednesday 00:00 (Tuesday 23:00 there) comes in. Monday: 09:05, 09:15, 09:40, 14:00 P and
09:45 S = 5; Tuesday: 09:30, 21:30, 23:59, 00:00 P and 09:31 B = 5.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.conversations.models import SenderKind
from shared.db import session_scope
from tests.functions.metrics_support import add_conversation, add_message, at

PATIENT, BOT, SECRETARY = SenderKind.PATIENT, SenderKind.BOT, SenderKind.SECRETARY
PERIOD = {"start_date": "2026-11-09", "end_date": "2026-11-10"}
MESSAGES = {  # conversation -> its messages in order: (São Paulo wall clock, sender)
    "c1": [("2026-11-08 23:59", PATIENT), ("2026-11-09 00:00", PATIENT), ("2026-11-09 00:01", BOT),
           ("2026-11-09 09:15", PATIENT), ("2026-11-09 09:40", PATIENT), ("2026-11-09 09:45", SECRETARY)],
    "c2": [("2026-11-09 09:05", PATIENT), ("2026-11-09 14:00", PATIENT), ("2026-11-10 09:30", PATIENT),
           ("2026-11-10 09:31", BOT), ("2026-11-10 23:59", PATIENT), ("2026-11-11 00:00", PATIENT)],
    "c3": [("2026-11-10 21:30", PATIENT)],
}  # fmt: skip


@pytest.fixture
def clinic(people):
    owners = {"c1": people.ana.id, "c2": people.bia.id, "c3": None}
    with session_scope() as session:
        for name, messages in MESSAGES.items():
            conversation = add_conversation(session, created_at=at(messages[0][0]), assigned_to=owners[name])
            for when, sender in messages:
                add_message(session, conversation, at(when), sender,
                            user_id=owners[name] if sender is SECRETARY else None)  # fmt: skip
    return people


def get(client, path: str, headers: dict, status: int = 200, **params) -> dict:
    response = client.get(f"/api/v1/metrics/{path}", query_string=params, headers=headers)
    assert response.status_code == status, response.json
    return response.json


def by_date(body: dict) -> dict[str, tuple[int, int, int]]:
    return {point["date"]: (point["count"], point["inbound"], point["outbound"]) for point in body["data"]}


def test_daily_volume_counts_both_directions_on_the_clinics_days(metrics_api, clinic):
    body = get(metrics_api, "message-volume", clinic.admin_h, **PERIOD)
    assert by_date(body) == {"2026-11-09": (7, 5, 2), "2026-11-10": (4, 3, 1)}
    assert (body["total"], body["granularity"], body["direction"]) == (11, "day", None)
    assert (body["start_date"], body["end_date"], body["period"]) == ("2026-11-09", "2026-11-10",
                                                                      "2026-11-09 to 2026-11-10")  # fmt: skip
    assert body["tz"] == "America/Sao_Paulo" and body["user_id"] is None and body["as_of"]


def test_direction_narrows_the_count(metrics_api, clinic):
    inbound = get(metrics_api, "message-volume", clinic.admin_h, direction="INBOUND", **PERIOD)
    outbound = get(metrics_api, "message-volume", clinic.admin_h, direction="OUTBOUND", **PERIOD)
    assert [p["count"] for p in inbound["data"]] == [5, 3] and inbound["total"] == 8
    assert [p["count"] for p in outbound["data"]] == [2, 1] and outbound["total"] == 3
    get(metrics_api, "message-volume", clinic.admin_h, 422, direction="SIDEWAYS", **PERIOD)


def test_hourly_volume_has_every_hour_zeros_included(metrics_api, clinic):
    body = get(metrics_api, "message-volume", clinic.admin_h, granularity="hour", **PERIOD)
    assert len(body["data"]) == 48 and body["data"][0]["date"] == "2026-11-09T00:00"
    busy = {date: counts for date, counts in by_date(body).items() if counts[0]}
    assert busy == {"2026-11-09T00:00": (2, 1, 1), "2026-11-09T09:00": (4, 3, 1), "2026-11-09T14:00": (1, 1, 0),
                    "2026-11-10T09:00": (2, 1, 1), "2026-11-10T21:00": (1, 1, 0),
                    "2026-11-10T23:00": (1, 1, 0)}  # fmt: skip


def test_weeks_are_isos_dated_by_their_monday_and_count_only_the_periods_days(metrics_api, clinic):
    body = get(metrics_api, "message-volume", clinic.admin_h, granularity="week", start_date="2026-11-08",
               end_date="2026-11-10")  # fmt: skip
    # Sunday 11-08 belongs to the week of Monday 11-02; its one message (23:59) is the only one counted there.
    assert by_date(body) == {"2026-11-02": (1, 1, 0), "2026-11-09": (11, 8, 3)}


def test_another_zone_reads_the_same_dates_on_its_own_clock(metrics_api, clinic):
    body = get(metrics_api, "message-volume", clinic.admin_h, tz="America/Manaus", **PERIOD)
    assert by_date(body) == {"2026-11-09": (5, 4, 1), "2026-11-10": (5, 4, 1)}
    assert body["tz"] == "America/Manaus"
    get(metrics_api, "message-volume", clinic.admin_h, 422, tz="-03:00", **PERIOD)
    get(metrics_api, "message-volume", clinic.admin_h, 422, tz="America/Atlantis", **PERIOD)
    get(metrics_api, "message-volume", clinic.admin_h, 422, start_date="2026-11-10", end_date="2026-11-09")


def test_a_half_hour_zone_counts_from_the_messages_as_the_hourly_rollup_cannot(metrics_api, clinic):
    zone = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours straddle two UTC hours of the rollup
    expected: dict[str, int] = {}
    for messages in MESSAGES.values():
        for when, _ in messages:
            local = at(when).astimezone(zone)
            if datetime(2026, 11, 9, tzinfo=zone) <= local < datetime(2026, 11, 11, tzinfo=zone):
                expected[local.strftime("%Y-%m-%dT%H:00")] = expected.get(local.strftime("%Y-%m-%dT%H:00"), 0) + 1
    body = get(metrics_api, "message-volume", clinic.admin_h, granularity="hour", tz="Asia/Kolkata", **PERIOD)
    assert {date: counts[0] for date, counts in by_date(body).items() if counts[0]} == expected
    # Kolkata's two days are São Paulo's Sunday 15:30 to Tuesday 15:30: Sunday 23:59, Monday 00:00 and 00:01 are
    # Monday 08:29-08:31 there; Tuesday 21:30 and later fall on Wednesday: 10 of the 13 messages.
    assert expected["2026-11-09T08:00"] == 3 and sum(expected.values()) == 10


def test_a_secretary_counts_only_her_conversations_and_an_admin_can_ask_for_hers(metrics_api, clinic):
    ana = get(metrics_api, "message-volume", clinic.ana_h, **PERIOD)
    bia = get(metrics_api, "message-volume", clinic.bia_h, **PERIOD)
    assert by_date(ana) == {"2026-11-09": (5, 3, 2), "2026-11-10": (0, 0, 0)}
    assert by_date(bia) == {"2026-11-09": (2, 2, 0), "2026-11-10": (3, 2, 1)}
    assert ana["total"] + bia["total"] + 1 == 11  # C3 is nobody's
    assert by_date(get(metrics_api, "message-volume", clinic.admin_h, user_id=str(clinic.ana.id), **PERIOD)) == \
        by_date(ana)  # fmt: skip
    assert by_date(get(metrics_api, "message-volume", clinic.ana_h, user_id=str(clinic.ana.id), **PERIOD)) == \
        by_date(ana)  # fmt: skip
    refused = get(metrics_api, "message-volume", clinic.ana_h, 403, user_id=str(clinic.bia.id), **PERIOD)
    assert refused["status"] == 403
    get(metrics_api, "message-volume", clinic.admin_h, 404, user_id=str(uuid.uuid4()), **PERIOD)
    assert metrics_api.get("/api/v1/metrics/message-volume").status_code == 401


def cells(body: dict) -> dict[tuple[str, int], int]:
    return {(cell["day"], cell["hour"]): cell["count"] for cell in body["heatmap"] if cell["count"]}


def test_the_heatmap_has_all_168_cells_of_patients_messages(metrics_api, clinic):
    body = get(metrics_api, "heatmap", clinic.admin_h, **PERIOD)
    assert len(body["heatmap"]) == 7 * 24 and body["heatmap"][0] == {"day": "monday", "hour": 0, "count": 1}
    assert body["heatmap"][-1] == {"day": "sunday", "hour": 23, "count": 0}
    assert cells(body) == {("monday", 0): 1, ("monday", 9): 3, ("monday", 14): 1, ("tuesday", 9): 1,
                           ("tuesday", 21): 1, ("tuesday", 23): 1}  # fmt: skip
    assert body["max_count"] == 3
    manaus = get(metrics_api, "heatmap", clinic.admin_h, tz="America/Manaus", **PERIOD)
    assert cells(manaus) == {("monday", 8): 3, ("monday", 13): 1, ("tuesday", 8): 1, ("tuesday", 20): 1,
                             ("tuesday", 22): 1, ("tuesday", 23): 1}  # fmt: skip
    assert cells(get(metrics_api, "heatmap", clinic.ana_h, **PERIOD)) == {("monday", 0): 1, ("monday", 9): 2}


def test_peak_hours_are_the_three_busiest_ties_to_the_earlier_hour(metrics_api, clinic):
    body = get(metrics_api, "peak-hours", clinic.admin_h, **PERIOD)
    assert body["peak_hours"] == [{"hour": 9, "count": 4}, {"hour": 0, "count": 1}, {"hour": 14, "count": 1}]
    assert [h["hour"] for h in body["hours"]] == list(range(24)) and sum(h["count"] for h in body["hours"]) == 8
    tuesday = get(metrics_api, "peak-hours", clinic.admin_h, weekday="tuesday", **PERIOD)
    assert tuesday["weekday"] == "tuesday"
    assert tuesday["peak_hours"] == [{"hour": 9, "count": 1}, {"hour": 21, "count": 1}, {"hour": 23, "count": 1}]
    manaus = get(metrics_api, "peak-hours", clinic.admin_h, tz="America/Manaus", **PERIOD)
    assert manaus["peak_hours"] == [{"hour": 8, "count": 4}, {"hour": 13, "count": 1}, {"hour": 20, "count": 1}]
    get(metrics_api, "peak-hours", clinic.admin_h, 422, weekday="segunda", **PERIOD)


def test_a_new_message_today_shows_at_once_and_a_past_period_is_cached(metrics_api, people):
    now = datetime.now(ZoneInfo("America/Sao_Paulo")).replace(second=0, microsecond=0)
    with session_scope() as session:
        conversation = add_conversation(session, created_at=now - timedelta(days=3))
        add_message(session, conversation, now - timedelta(days=3), PATIENT)
    past = {"start_date": (now - timedelta(days=3)).date().isoformat(),
            "end_date": (now - timedelta(days=1)).date().isoformat()}  # fmt: skip
    today = {"start_date": now.date().isoformat(), "end_date": now.date().isoformat()}
    assert get(metrics_api, "message-volume", people.admin_h, **past)["total"] == 1
    assert get(metrics_api, "message-volume", people.admin_h, **today)["total"] == 0
    with session_scope() as session:
        add_message(session, session.merge(conversation), now - timedelta(days=3, seconds=-30), BOT)
        add_message(session, session.merge(conversation), now, PATIENT)
    # The past period's answer is kept (5 minutes); today's is recomputed within TODAY_TTL_SECONDS (5 s).
    assert get(metrics_api, "message-volume", people.admin_h, **past)["total"] == 1
    deadline = datetime.now() + timedelta(seconds=10)
    while get(metrics_api, "message-volume", people.admin_h, **today)["total"] != 1:
        assert datetime.now() < deadline, "today's new message did not show within 10 s"
        time.sleep(0.2)

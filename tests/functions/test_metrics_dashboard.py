"""The dashboard summary and the comparison of two periods, against a clinic counted by hand.

The clinic (São Paulo wall clock; the period is Monday 2026-11-02 to Sunday 2026-11-08, ISO week 2026-W45; the
previous one is 2026-10-26 to 2026-11-01). P patient, B bot, A Ana, S Bia (Bia Souza); each wait in seconds.
  C0 Bia  ACTIVE             Sun 11-01 22:00 P -> 22:03 S                      W0 180 (previous; in UTC: the period)
                             Sat 11-07 10:00 P -> 10:30 A (Ana covers)         W7 1800
  C1 Ana  ACTIVE             Mon 11-02 09:00 P -> 09:02 A                      W1 120
                             Mon 11-02 23:59 P -> Tue 00:09 A (Monday's)       W2 600
  C2 Bia  WAITING_SECRETARY  Wed 11-04 10:00 P -> 10:01 B                      W3 60
                             Wed 11-04 10:05 P -> 10:09 S                      W4 240
  C3 Ana  CLOSED, urgent     Thu 11-05 14:00 P -> 14:05 A                      W5 300 (at the SLA: within)
  C4 -    ACTIVE, urgent     Sun 11-08 23:30 P, 23:40 P, never answered        W6 open (in UTC: 11-09)
Feedback: C1 9 (Sat 11-07), C3 10 (Fri 11-06), C2 6 (Thu 11-05).
Leads: L1 Ana created Mon 11-02, converted Wed 11-04 12:00 (SCHEDULED); L2 Bia Wed 11-04 NEW; L3 Ana created
Wed 10-28 (previous), converted Tue 11-03 09:00; L4 Bia Fri 11-06 LOST; L5 Ana Thu 11-05 converted the same day
but deleted; L6 nobody's, Sun 11-08 23:50 (in UTC: 11-09); L7 Ana created now (today), L8 Ana a day ago.
Carla is a third active secretary who did nothing; Dora an inactive one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.conversations.models import ConversationStatus, SenderKind
from shared.db import session_scope
from shared.leads.models import LeadStatus
from shared.users.models import Role, User, UserStatus
from tests.functions.metrics_support import add_conversation, add_feedback, add_lead, add_message, at

PATIENT, BOT, SECRETARY = SenderKind.PATIENT, SenderKind.BOT, SenderKind.SECRETARY
PERIOD = {"start_date": "2026-11-02", "end_date": "2026-11-08"}
PREVIOUS = {"start_date": "2026-10-26", "end_date": "2026-11-01"}


def add_secretary(session, name: str, status: UserStatus = UserStatus.ACTIVE) -> User:
    """A secretary who never logs in (no password hashing: the fixture stays fast)."""
    user = User(email=f"{uuid.uuid4().hex[:10]}@example.com", full_name=name, password_hash="-", role=Role.USER,
                status=status)  # fmt: skip
    session.add(user)
    session.flush()
    return user


def _conversations(session, ana: uuid.UUID, bia: uuid.UUID) -> dict:
    c0 = add_conversation(session, created_at=at("2026-11-01 22:00"), assigned_to=bia)
    add_message(session, c0, at("2026-11-01 22:00"), PATIENT)
    add_message(session, c0, at("2026-11-01 22:03"), SECRETARY, user_id=bia)
    add_message(session, c0, at("2026-11-07 10:00"), PATIENT)
    add_message(session, c0, at("2026-11-07 10:30"), SECRETARY, user_id=ana)
    c1 = add_conversation(session, created_at=at("2026-11-02 09:00"), assigned_to=ana)
    add_message(session, c1, at("2026-11-02 09:00"), PATIENT)
    add_message(session, c1, at("2026-11-02 09:02"), SECRETARY, user_id=ana)
    add_message(session, c1, at("2026-11-02 23:59"), PATIENT)
    add_message(session, c1, at("2026-11-03 00:09"), SECRETARY, user_id=ana)
    c2 = add_conversation(session, created_at=at("2026-11-04 10:00"), assigned_to=bia,
                          status=ConversationStatus.WAITING_SECRETARY)  # fmt: skip
    add_message(session, c2, at("2026-11-04 10:00"), PATIENT)
    add_message(session, c2, at("2026-11-04 10:01"), BOT)
    add_message(session, c2, at("2026-11-04 10:05"), PATIENT)
    add_message(session, c2, at("2026-11-04 10:09"), SECRETARY, user_id=bia)
    c3 = add_conversation(session, created_at=at("2026-11-05 14:00"), assigned_to=ana, status=ConversationStatus.CLOSED)
    add_message(session, c3, at("2026-11-05 14:00"), PATIENT)
    add_message(session, c3, at("2026-11-05 14:05"), SECRETARY, user_id=ana)
    c4 = add_conversation(session, created_at=at("2026-11-08 23:30"))
    add_message(session, c4, at("2026-11-08 23:30"), PATIENT)
    add_message(session, c4, at("2026-11-08 23:40"), PATIENT)
    c3.is_urgent = c4.is_urgent = True
    add_feedback(session, c1, 9, at("2026-11-07 12:00"))
    add_feedback(session, c3, 10, at("2026-11-06 12:00"))
    add_feedback(session, c2, 6, at("2026-11-05 12:00"))
    return {"c1": c1, "c2": c2}


def _leads(session, ana: uuid.UUID, bia: uuid.UUID, conversations: dict) -> None:
    now = datetime.now(UTC)
    add_lead(session, created_at=at("2026-11-02 10:00"), conversation=conversations["c1"], assigned_to=ana,
             status=LeadStatus.SCHEDULED, converted_at=at("2026-11-04 12:00"))  # fmt: skip
    add_lead(session, created_at=at("2026-11-04 11:00"), conversation=conversations["c2"], assigned_to=bia)
    add_lead(session, created_at=at("2026-10-28 10:00"), assigned_to=ana, status=LeadStatus.SCHEDULED,
             converted_at=at("2026-11-03 09:00"))  # fmt: skip
    add_lead(session, created_at=at("2026-11-06 10:00"), assigned_to=bia, status=LeadStatus.LOST)
    add_lead(session, created_at=at("2026-11-05 10:00"), assigned_to=ana, status=LeadStatus.SCHEDULED,
             converted_at=at("2026-11-05 11:00"), deleted_at=at("2026-11-05 12:00"))  # fmt: skip
    add_lead(session, created_at=at("2026-11-08 23:50"))
    add_lead(session, created_at=now, assigned_to=ana)
    add_lead(session, created_at=now - timedelta(days=1), assigned_to=ana)


def build_clinic(people):
    """The clinic above; `people` gains `carla` (active, idle) and `dora` (inactive)."""
    with session_scope() as session:
        session.get(User, people.ana.id).full_name = "Ana Silva"
        session.get(User, people.bia.id).full_name = "Bia Souza"
        people.carla = add_secretary(session, "Carla Dias")
        people.dora = add_secretary(session, "Dora Lima", UserStatus.INACTIVE)
        conversations = _conversations(session, people.ana.id, people.bia.id)
        _leads(session, people.ana.id, people.bia.id, conversations)
    return people


@pytest.fixture
def clinic(people):
    return build_clinic(people)


def get(client, path: str, headers: dict, status: int = 200, **params) -> dict:
    response = client.get(f"/api/v1/{path}", query_string=params, headers=headers)
    assert response.status_code == status, response.json
    return response.json


SUMMARY_FIELDS = ("active_conversations", "conversion_rate", "avg_response_time_seconds", "patient_messages", "nps",
                  "new_leads_today", "waiting_secretary", "urgent_open", "n")  # fmt: skip


def figures(body: dict, fields=SUMMARY_FIELDS) -> dict:
    return {name: body[name] for name in fields}


def test_the_clinics_summary_with_the_previous_period(metrics_api, clinic):
    body = get(metrics_api, "dashboard/summary", clinic.admin_h, **PERIOD)
    assert figures(body) == {
        "active_conversations": 4,  # C0 (W7), C1, C2, C4; C3 is CLOSED
        "conversion_rate": 0.25,  # L1 of L1, L2, L4, L6 (L3 was created before, L5 is deleted)
        "avg_response_time_seconds": 520.0,  # (120 + 600 + 60 + 240 + 300 + 1800) / 6; W6 unanswered
        "patient_messages": 8,  # C0 1, C1 2, C2 2, C3 1, C4 2
        "nps": 33.3,  # promoters 9 and 10, detractor 6: (2 - 1) / 3
        "new_leads_today": 1,  # L7; L8 was yesterday
        "waiting_secretary": 1,  # C2
        "urgent_open": 1,  # C4; C3 is urgent but CLOSED
        "n": 6,
    }
    # The previous week: C0's first exchange and L3 (converted), no feedback.
    assert body["previous"] == {"active_conversations": 1, "conversion_rate": 1.0, "avg_response_time_seconds": 180.0,
                                "patient_messages": 1, "nps": None, "n": 1}  # fmt: skip
    assert body["delta_pct"] == {"active_conversations": 300.0, "conversion_rate": -75.0, "nps": None,
                                 "avg_response_time_seconds": 188.9, "patient_messages": 700.0}  # fmt: skip
    assert (body["period"], body["tz"], body["user_id"]) == ("2026-11-02 to 2026-11-08", "America/Sao_Paulo", None)


def test_the_summary_read_in_utc_moves_the_edges_of_the_week(metrics_api, clinic):
    body = get(metrics_api, "dashboard/summary", clinic.admin_h, tz="UTC", **PERIOD)
    # In UTC the week runs from Sun 11-01 21:00 to Sun 11-08 21:00 in São Paulo: C0's Sunday exchange is in, C4's
    # messages and L6 are out.
    assert figures(body) == {
        "active_conversations": 3,  # C0, C1, C2
        "conversion_rate": 0.3333,  # L1 of L1, L2, L4
        "avg_response_time_seconds": 471.4,  # (180 + 3120) / 7
        "patient_messages": 7,  # C0 2, C1 2, C2 2, C3 1
        "nps": 33.3,
        "new_leads_today": 1,
        "waiting_secretary": 1,
        "urgent_open": 1,
        "n": 7,
    }


def test_a_secretary_sees_her_own_summary_and_not_anothers(metrics_api, clinic):
    ana = get(metrics_api, "dashboard/summary", clinic.ana_h, **PERIOD)
    # Ana's conversations C1 and C3 (CLOSED); W1, W2, W5; L1 converted; feedback 9 and 10; L7 today.
    assert figures(ana) == {"active_conversations": 1, "conversion_rate": 1.0, "avg_response_time_seconds": 340.0,
                            "patient_messages": 3, "nps": 100.0, "new_leads_today": 1, "waiting_secretary": 0,
                            "urgent_open": 0, "n": 3}  # fmt: skip
    assert ana["user_id"] == str(clinic.ana.id)
    bia = get(metrics_api, "dashboard/summary", clinic.bia_h, **PERIOD)
    # Bia's C0 and C2: W3, W4 and W7 (answered by Ana, but in Bia's conversation); L2 and L4 unconverted.
    assert figures(bia) == {"active_conversations": 2, "conversion_rate": 0.0, "avg_response_time_seconds": 700.0,
                            "patient_messages": 3, "nps": -100.0, "new_leads_today": 0, "waiting_secretary": 1,
                            "urgent_open": 0, "n": 3}  # fmt: skip
    get(metrics_api, "dashboard/summary", clinic.ana_h, 403, user_id=str(clinic.bia.id), **PERIOD)
    assert get(metrics_api, "dashboard/summary", clinic.admin_h, user_id=str(clinic.bia.id), **PERIOD)["n"] == 3
    assert metrics_api.get("/api/v1/dashboard/summary").status_code == 401


COMPARE = {"period1_start": "2026-10-26", "period1_end": "2026-11-01", "period2_start": "2026-11-02",
           "period2_end": "2026-11-08"}  # fmt: skip
COMPARED = ("leads", "converted", "conversion_rate", "patient_messages", "avg_response_time_seconds",
            "sla_compliance_rate", "nps")  # fmt: skip


def test_two_periods_compared_with_deltas_and_whether_they_improved(metrics_api, clinic):
    body = get(metrics_api, "metrics/compare", clinic.admin_h, **COMPARE)
    # Period 1: L3 converted; C0's 22:00; W0 180 (within the SLA of 300).
    assert figures(body["period1"], COMPARED) == {"leads": 1, "converted": 1, "conversion_rate": 100.0,
                                                  "patient_messages": 1, "avg_response_time_seconds": 180.0,
                                                  "sla_compliance_rate": 100.0, "nps": None}  # fmt: skip
    # Period 2: W1, W3, W4, W5 within the SLA, W2 and W7 not: 4 / 6.
    assert figures(body["period2"], COMPARED) == {"leads": 4, "converted": 1, "conversion_rate": 25.0,
                                                  "patient_messages": 8, "avg_response_time_seconds": 520.0,
                                                  "sla_compliance_rate": 66.7, "nps": 33.3}  # fmt: skip
    assert body["deltas"] == {"leads": 300.0, "converted": 0.0, "conversion_rate": -75.0, "patient_messages": 700.0,
                              "avg_response_time_seconds": 188.9, "sla_compliance_rate": -33.3,
                              "nps": None}  # fmt: skip
    assert body["better"] == {"leads": True, "converted": None, "conversion_rate": False, "patient_messages": True,
                              "avg_response_time_seconds": False, "sla_compliance_rate": False,
                              "nps": None}  # fmt: skip
    assert (body["period1"]["start_date"], body["period2"]["end_date"]) == ("2026-10-26", "2026-11-08")


def test_compare_in_another_zone_in_a_secretarys_scope_and_its_refusals(metrics_api, clinic):
    utc = get(metrics_api, "metrics/compare", clinic.admin_h, tz="UTC", **COMPARE)
    assert (utc["period1"]["patient_messages"], utc["period2"]["patient_messages"]) == (0, 7)
    assert utc["deltas"]["patient_messages"] is None and utc["better"]["patient_messages"] is True  # from 0
    bia = get(metrics_api, "metrics/compare", clinic.bia_h, **COMPARE)
    # Bia: W0 180 then W3 60, W4 240, W7 1800: 700; lower is better, so worse.
    assert (bia["period1"]["avg_response_time_seconds"], bia["period2"]["avg_response_time_seconds"]) == (180.0, 700.0)
    assert bia["deltas"]["avg_response_time_seconds"] == 288.9 and bia["better"]["avg_response_time_seconds"] is False
    assert bia["user_id"] == str(clinic.bia.id)
    get(metrics_api, "metrics/compare", clinic.ana_h, 403, user_id=str(clinic.bia.id), **COMPARE)
    get(metrics_api, "metrics/compare", clinic.admin_h, 422, **{**COMPARE, "period2_end": "2026-11-01"})
    get(metrics_api, "metrics/compare", clinic.admin_h, 422, **{**COMPARE, "period1_start": "2020-01-01"})
    get(metrics_api, "metrics/compare", clinic.admin_h, 422, **{**COMPARE, "tz": "-03:00"})
    get(metrics_api, "metrics/compare", clinic.admin_h, 422, period1_start="2026-10-26")

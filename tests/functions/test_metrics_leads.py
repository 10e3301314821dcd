"""The leads metrics (cards 129, 131, 135, 137, 151, 152) against a hand-counted clinic.

November 2026 in São Paulo (UTC-3, no summer time) is the period; its previous period is 2 to 31 October.
Every expected number below is counted by hand from the table in `build_clinic`'s docstring.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.conversations.models import ConversationStatus, SenderKind
from shared.db import session_scope
from shared.leads.models import LeadSource, LeadStatus
from shared.metrics import leads, money
from tests.functions.metrics_support import add_conversation, add_lead, add_message, at

NOVEMBER = {"start_date": "2026-11-01", "end_date": "2026-11-30"}
NOVEMBER_UTC = {**NOVEMBER, "tz": "UTC"}
P, B, S = SenderKind.PATIENT, SenderKind.BOT, SenderKind.SECRETARY
NEW, ENGAGED, INTERESTED, READY, SCHEDULED, LOST = LeadStatus
WHATSAPP, MANUAL, REFERRAL, OTHER = LeadSource


def _talk(session, people, conversation, *steps) -> None:
    for when, sender in steps:
        add_message(session, conversation, at(when), sender, user_id=people.ana.id if sender is S else None)


def _conversations(session, people) -> dict:
    ana, bia = people.ana.id, people.bia.id
    plan = {  # name: (assignee, created, status, messages in order)
        "C1": (ana, "2026-11-05 09:50", None, [("2026-11-05 09:50", P), ("2026-11-05 09:51", B),
                                              ("2026-11-06 10:00", P)]),
        "C2": (ana, "2026-11-06 09:50", None, [("2026-11-06 09:50", P), ("2026-11-06 09:51", B),
                                              ("2026-11-06 23:59", P), ("2026-11-07 00:10", P),
                                              ("2026-11-08 10:00", P)]),
        "C4": (ana, "2026-11-12 09:50", None, [("2026-11-12 09:50", P), ("2026-11-12 10:00", S)]),
        "C5": (bia, "2026-11-15 09:50", None, [("2026-11-15 09:50", P), ("2026-11-15 09:51", B),
                                              ("2026-11-16 09:50", P), ("2026-11-16 09:51", B)]),
        "C6": (ana, "2026-11-16 09:50", None, [("2026-11-16 09:50", P), ("2026-11-16 09:51", B),
                                              ("2026-11-20 10:00", P)]),
        "C7": (bia, "2026-11-17 09:50", None, [("2026-11-17 09:50", P), ("2026-11-17 09:51", B)]),
        "C9": (ana, "2026-11-30 23:20", None, [("2026-11-30 23:20", P), ("2026-11-30 23:21", B)]),
        "Cx": (None, "2026-11-20 10:00", None, [("2026-11-20 10:00", P), ("2026-11-20 10:01", B)]),
        "Cy": (ana, "2026-11-22 10:00", None, [("2026-11-22 10:00", P), ("2026-11-22 10:01", B)]),
        "Cz": (bia, "2026-11-25 10:00", ConversationStatus.CLOSED, [("2026-11-25 10:00", P),
                                                                    ("2026-11-25 10:01", B)]),
        "Cw": (None, "2026-11-26 10:00", None, [("2026-11-26 10:00", P), ("2026-11-27 23:59", B)]),
        "Cv": (bia, "2026-11-01 00:05", None, [("2026-11-01 00:05", P), ("2026-11-01 00:06", B)]),
        "C10": (bia, "2026-10-31 22:20", None, [("2026-10-31 22:20", P), ("2026-10-31 22:21", B),
                                               ("2026-11-02 10:00", P), ("2026-11-02 10:01", B)]),
        "C12": (ana, "2026-10-15 10:00", None, [("2026-10-15 10:00", P), ("2026-10-15 10:01", B),
                                               ("2026-10-18 10:00", P), ("2026-10-18 10:01", B)]),
    }  # fmt: skip
    found = {}
    for name, (assignee, created, status, messages) in plan.items():
        found[name] = add_conversation(session, created_at=at(created), assigned_to=assignee,
                                       status=status or ConversationStatus.ACTIVE)  # fmt: skip
        _talk(session, people, found[name], *messages)
    return found


def build_clinic(people) -> SimpleNamespace:
    """The clinic every test here counts (times in São Paulo; P patient, B bot, S secretary):

    lead  status               source    owner maturity created           conversation  converted
    L1    NEW                  WHATSAPP  Ana   10       11-05 10:00       C1
    L2    ENGAGED              WHATSAPP  Ana   25       11-06 10:00       C2
    L3    INTERESTED           MANUAL    Bia   45       11-10 10:00       -
    L4    READY                REFERRAL  Ana   70       11-12 10:00       C4
    L5    SCHEDULED            WHATSAPP  Bia   90       11-15 10:00       C5            11-20
    L6    SCHEDULED            REFERRAL  Ana   81       11-16 10:00       C6            11-21
    L7    INTERESTED -> LOST   WHATSAPP  Bia   60       11-17 10:00       C7
    L8    NEW -> LOST          OTHER     -     20       11-18 10:00       -
    L9    NEW                  WHATSAPP  Ana   0        11-30 23:30 (12-01 02:30 UTC)  C9
    L10   ENGAGED              WHATSAPP  Bia   30       10-31 22:30 (11-01 01:30 UTC)  C10
    L11   SCHEDULED, deleted   WHATSAPP  Ana   50       11-08 10:00       Cy            11-09
    L12   SCHEDULED            WHATSAPP  Ana   95       10-15 10:30       C12           10-20
    L13   NEW                  MANUAL    Ana   5        10-20 10:00       -

    Conversations (owner, created; messages) are in `_conversations`; Cz is CLOSED.
    """
    with session_scope() as session:
        conversations = _conversations(session, people)
        ana, bia = people.ana.id, people.bia.id
        rows = [  # (status, source, owner, maturity, created, conversation, converted, deleted)
            (NEW, WHATSAPP, ana, 10, "2026-11-05 10:00", "C1", None, None),
            (ENGAGED, WHATSAPP, ana, 25, "2026-11-06 10:00", "C2", None, None),
            (INTERESTED, MANUAL, bia, 45, "2026-11-10 10:00", None, None, None),
            (READY, REFERRAL, ana, 70, "2026-11-12 10:00", "C4", None, None),
            (SCHEDULED, WHATSAPP, bia, 90, "2026-11-15 10:00", "C5", "2026-11-20 10:00", None),
            (SCHEDULED, REFERRAL, ana, 81, "2026-11-16 10:00", "C6", "2026-11-21 10:00", None),
            (INTERESTED, WHATSAPP, bia, 60, "2026-11-17 10:00", "C7", None, None),
            (NEW, OTHER, None, 20, "2026-11-18 10:00", None, None, None),
            (NEW, WHATSAPP, ana, 0, "2026-11-30 23:30", "C9", None, None),
            (ENGAGED, WHATSAPP, bia, 30, "2026-10-31 22:30", "C10", None, None),
            (SCHEDULED, WHATSAPP, ana, 50, "2026-11-08 10:00", "Cy", "2026-11-09 10:00", "2026-11-10 10:00"),
            (SCHEDULED, WHATSAPP, ana, 95, "2026-10-15 10:30", "C12", "2026-10-20 10:00", None),
            (NEW, MANUAL, ana, 5, "2026-10-20 10:00", None, None, None),
        ]  # fmt: skip
        made = []
        for status, source, owner, maturity, created, conversation, converted, deleted in rows:
            made.append(add_lead(session, created_at=at(created), status=status, source=source, assigned_to=owner,
                                  maturity=maturity, conversation=conversations.get(conversation),
                                  converted_at=at(converted) if converted else None,
                                  deleted_at=at(deleted) if deleted else None))  # fmt: skip
        for lost in (made[6], made[7]):  # L7 after INTERESTED, L8 straight from NEW: the trigger records both
            lost.status = LOST
        session.flush()
    return SimpleNamespace(people=people)


@pytest.fixture
def clinic(people):
    return build_clinic(people)


ANSWERS = {"conversion-rate": leads.ConversionOut, "funnel": leads.FunnelOut, "leads-by-source": leads.SourcesOut,
           "lead-retention": leads.RetentionOut, "maturity-distribution": leads.MaturityOut,
           "abandonment-rate": leads.AbandonmentOut, "cost-per-lead": money.CostPerLeadOut, "roi": money.RoiOut,
           "ltv": money.LtvOut}  # fmt: skip


def get(metrics_api, path: str, headers: dict, **params):
    """The answer, held to the shape the OpenAPI document declares for it."""
    response = metrics_api.get(f"/api/v1/metrics/{path}", headers=headers, query_string=params)
    assert response.status_code == 200, response.json
    ANSWERS[path].model_validate(response.json, strict=False)
    return response.json


def test_conversion_rate_counts_the_periods_live_leads_by_status(metrics_api, clinic):
    answer = get(metrics_api, "conversion-rate", clinic.people.admin_h, **NOVEMBER)
    # L1-L9 (L9 at 23:30 on the 30th in São Paulo; L10 is October's; L11 deleted); converted L5, L6.
    assert (answer["total_leads"], answer["converted"], answer["conversion_rate"], answer["n"]) == (9, 2, 22.2, 9)
    assert answer["by_status"] == {"NEW": 2, "ENGAGED": 1, "INTERESTED": 1, "READY": 1, "SCHEDULED": 2, "LOST": 2}
    # October 2-31: L10, L12, L13; L12 converted.
    assert answer["previous"] == {"total_leads": 3, "converted": 1, "conversion_rate": 33.3, "n": 3}
    assert answer["delta_pct"] == {"total_leads": 200.0, "converted": 100.0, "conversion_rate": -33.3}
    assert (answer["period"], answer["tz"], answer["user_id"]) == ("2026-11-01 to 2026-11-30", "America/Sao_Paulo",
                                                                   None)  # fmt: skip


def test_conversion_rate_in_utc_moves_the_leads_around_midnight(metrics_api, clinic):
    answer = get(metrics_api, "conversion-rate", clinic.people.admin_h, **NOVEMBER_UTC)
    # L9 (12-01 02:30 UTC) leaves November, L10 (11-01 01:30 UTC) joins it.
    assert (answer["total_leads"], answer["converted"], answer["conversion_rate"]) == (9, 2, 22.2)
    assert answer["by_status"] == {"NEW": 1, "ENGAGED": 2, "INTERESTED": 1, "READY": 1, "SCHEDULED": 2, "LOST": 2}
    # October in UTC: L12, L13 (L10 is November's now).
    assert answer["previous"]["total_leads"] == 2 and answer["previous"]["conversion_rate"] == 50.0


def test_a_secretary_sees_her_own_leads_and_not_anothers(metrics_api, clinic):
    people = clinic.people
    ana = get(metrics_api, "conversion-rate", people.ana_h, **NOVEMBER)
    # Ana's: L1, L2, L4, L6, L9 (L11 deleted); L6 converted. October: L12, L13.
    assert (ana["total_leads"], ana["converted"], ana["conversion_rate"]) == (5, 1, 20.0)
    assert ana["by_status"] == {"NEW": 2, "ENGAGED": 1, "INTERESTED": 0, "READY": 1, "SCHEDULED": 1, "LOST": 0}
    assert ana["user_id"] == str(people.ana.id) and ana["previous"]["conversion_rate"] == 50.0
    # Bia's, through an ADMIN's user_id: L3, L5, L7; L5 converted.
    bia = get(metrics_api, "conversion-rate", people.admin_h, user_id=str(people.bia.id), **NOVEMBER)
    assert (bia["total_leads"], bia["converted"], bia["conversion_rate"]) == (3, 1, 33.3)
    refused = metrics_api.get("/api/v1/metrics/conversion-rate", headers=people.bia_h,
                              query_string={"user_id": str(people.ana.id), **NOVEMBER})  # fmt: skip
    assert refused.status_code == 403


def test_funnel_counts_each_stage_and_its_dropoff(metrics_api, clinic):
    answer = get(metrics_api, "funnel", clinic.people.admin_h, **NOVEMBER)
    # 12 conversations started in November (C1 C2 C4 C5 C6 C7 C9 Cx Cy Cz Cw Cv; Cv at 00:05 on the 1st);
    # 9 leads; qualified: L3 L4 L5 L6 and L7 (LOST after INTERESTED), not L8 (LOST from NEW); converted L5 L6.
    assert answer["funnel"] == [
        {"stage": "Primeira Mensagem", "key": "conversations", "count": 12, "dropoff": 0.0,
         "conversion_from_start": 100.0},
        {"stage": "Lead Criado", "key": "leads", "count": 9, "dropoff": 25.0, "conversion_from_start": 75.0},
        {"stage": "Qualificado", "key": "qualified", "count": 5, "dropoff": 44.4, "conversion_from_start": 41.7},
        {"stage": "Convertido", "key": "converted", "count": 2, "dropoff": 60.0, "conversion_from_start": 16.7},
    ]  # fmt: skip
    # Ana: her conversations C1 C2 C4 C6 C9 Cy; her leads L1 L2 L4 L6 L9; qualified L4 L6; converted L6.
    ana = get(metrics_api, "funnel", clinic.people.ana_h, **NOVEMBER)
    assert [(s["count"], s["dropoff"], s["conversion_from_start"]) for s in ana["funnel"]] == [
        (6, 0.0, 100.0), (5, 16.7, 83.3), (2, 60.0, 33.3), (1, 50.0, 16.7)]  # fmt: skip


def test_leads_by_source_lists_every_source_busiest_first(metrics_api, clinic):
    answer = get(metrics_api, "leads-by-source", clinic.people.admin_h, **NOVEMBER)
    # WHATSAPP L1 L2 L5 L7 L9 (L5 converted); REFERRAL L4 L6 (L6); MANUAL L3; OTHER L8.
    assert answer["sources"] == [
        {"source": "WHATSAPP", "count": 5, "converted": 1, "conversion_rate": 20.0},
        {"source": "REFERRAL", "count": 2, "converted": 1, "conversion_rate": 50.0},
        {"source": "MANUAL", "count": 1, "converted": 0, "conversion_rate": 0.0},
        {"source": "OTHER", "count": 1, "converted": 0, "conversion_rate": 0.0},
    ]
    assert answer["total"] == 9
    # Bia's: WHATSAPP L5 L7, MANUAL L3; no REFERRAL or OTHER lead, so no rate.
    bia = get(metrics_api, "leads-by-source", clinic.people.bia_h, **NOVEMBER)
    assert [(s["source"], s["count"], s["conversion_rate"]) for s in bia["sources"]] == [
        ("WHATSAPP", 2, 50.0), ("MANUAL", 1, 0.0), ("REFERRAL", 0, None), ("OTHER", 0, None)]  # fmt: skip


def test_lead_retention_counts_patients_who_wrote_again_a_day_later(metrics_api, clinic):
    answer = get(metrics_api, "lead-retention", clinic.people.admin_h, **NOVEMBER)
    # Returning: L1 (after our answer, 24 h 10 min later), L5 (exactly 24 h later), L6 (4 days later). Not L2:
    # after our answer its patient wrote at 23:59 (14 h later), then at 00:10 and two days later, but we had not
    # answered the 23:59 message yet (one wait). L3 and L8 have no conversation.
    assert (answer["total_leads"], answer["returning_leads"], answer["retention_rate"]) == (9, 3, 33.3)
    assert answer["cohorts"] == [
        {"week": "2026-W49", "leads": 1, "returning": 0, "retention": 0.0},  # L9 (Monday 30th)
        {"week": "2026-W48", "leads": 0, "returning": 0, "retention": None},
        {"week": "2026-W47", "leads": 3, "returning": 1, "retention": 33.3},  # L6 L7 L8
        {"week": "2026-W46", "leads": 3, "returning": 1, "retention": 33.3},  # L3 L4 L5 (Sunday 15th)
        {"week": "2026-W45", "leads": 2, "returning": 1, "retention": 50.0},  # L1 L2
        {"week": "2026-W44", "leads": 0, "returning": 0, "retention": None},  # Sunday 1st
    ]
    # October: L10 (back on 11-02), L12 (back on 10-18), L13 (no conversation).
    assert answer["previous"] == {"total_leads": 3, "returning_leads": 2, "retention_rate": 66.7, "n": 3}
    assert answer["delta_pct"] == {"total_leads": 200.0, "returning_leads": 50.0, "retention_rate": -50.1}


def test_lead_retention_in_utc(metrics_api, clinic):
    answer = get(metrics_api, "lead-retention", clinic.people.admin_h, **NOVEMBER_UTC)
    # L9 leaves, L10 (returning) joins, in week 44 (Sunday 1 November 01:30 UTC).
    assert (answer["total_leads"], answer["returning_leads"], answer["retention_rate"]) == (9, 4, 44.4)
    assert answer["cohorts"][0] == {"week": "2026-W49", "leads": 0, "returning": 0, "retention": None}
    assert answer["cohorts"][-1] == {"week": "2026-W44", "leads": 1, "returning": 1, "retention": 100.0}


def test_maturity_distribution(metrics_api, clinic):
    answer = get(metrics_api, "maturity-distribution", clinic.people.admin_h, **NOVEMBER)
    # 0-20: L1 10, L8 20, L9 0; 21-40: L2 25; 41-60: L3 45, L7 60; 61-80: L4 70; 81-100: L5 90, L6 81.
    assert answer["distribution"] == [{"range": "0-20", "count": 3}, {"range": "21-40", "count": 1},
                                      {"range": "41-60", "count": 2}, {"range": "61-80", "count": 1},
                                      {"range": "81-100", "count": 2}]  # fmt: skip
    assert (answer["average"], answer["n"]) == (44.6, 9)  # 401 / 9 = 44.56
    utc = get(metrics_api, "maturity-distribution", clinic.people.admin_h, **NOVEMBER_UTC)
    # L9 (0) out, L10 (30) in: 0-20 loses one, 21-40 gains one; 431 / 9 = 47.89.
    assert [r["count"] for r in utc["distribution"]] == [2, 2, 2, 1, 2] and utc["average"] == 47.9
    ana = get(metrics_api, "maturity-distribution", clinic.people.ana_h, **NOVEMBER)
    # Ana's L1 10, L9 0 | L2 25 | - | L4 70 | L6 81: 186 / 5.
    assert [r["count"] for r in ana["distribution"]] == [2, 1, 0, 1, 1] and (ana["average"], ana["n"]) == (37.2, 5)


def test_abandonment_counts_our_unanswered_last_word_after_72_hours(metrics_api, clinic):
    answer = get(metrics_api, "abandonment-rate", clinic.people.admin_h, **NOVEMBER)
    # 13 conversations the patient wrote to in November (the 12 started in it, and C10 on 11-02).
    # Cutoff 12-01 00:00, so our answer to the latest wait before 11-28 00:00: C4 (READY), C5 (SCHEDULED),
    # C7 (LOST), C10 (ENGAGED), Cx, Cv, Cy (its only lead is deleted) and Cw (11-27 23:59, 72 h 1 min): 8.
    # Not C1, C2, C6 (the patient waits for us), C9 (answered 39 minutes before the cutoff), Cz (CLOSED).
    assert (answer["total_conversations"], answer["abandoned"], answer["abandonment_rate"]) == (13, 8, 61.5)
    assert answer["by_stage"] == {"Novo": 0, "Engajado": 1, "Interessado": 0, "Pronto": 1, "Agendado": 1,
                                  "Perdido": 1, "Sem lead": 4}  # fmt: skip
    assert answer["common_abandonment_stage"] == "Sem lead"
    # October (cutoff 11-01 00:00): C10 (answered 2 minutes before the cutoff) and C12 (abandoned, SCHEDULED).
    assert answer["previous"] == {"total_conversations": 2, "abandoned": 1, "abandonment_rate": 50.0, "n": 2}
    assert answer["delta_pct"]["abandonment_rate"] == 23.0


def test_abandonment_in_utc_and_for_a_secretary(metrics_api, clinic):
    utc = get(metrics_api, "abandonment-rate", clinic.people.admin_h, **NOVEMBER_UTC)
    # C9's patient wrote on 12-01 02:20 UTC: out. The cutoff is 12-01 00:00 UTC, so Cw's last message
    # (11-28 02:59 UTC) is under 72 h old: 7 of 12.
    assert (utc["total_conversations"], utc["abandoned"], utc["abandonment_rate"]) == (12, 7, 58.3)
    assert utc["by_stage"]["Sem lead"] == 3
    ana = get(metrics_api, "abandonment-rate", clinic.people.ana_h, **NOVEMBER)
    # Ana's C1 C2 C4 C6 C9 Cy: C4 (READY) and Cy (no live lead); a tie goes to the earlier stage.
    assert (ana["total_conversations"], ana["abandoned"], ana["abandonment_rate"]) == (6, 2, 33.3)
    assert ana["common_abandonment_stage"] == "Pronto"
    assert ana["by_stage"] == {"Novo": 0, "Engajado": 0, "Interessado": 0, "Pronto": 1, "Agendado": 0,
                               "Perdido": 0, "Sem lead": 1}  # fmt: skip


def test_an_empty_period_has_no_rates(metrics_api, people):
    answer = get(metrics_api, "conversion-rate", people.admin_h, **NOVEMBER)
    assert (answer["total_leads"], answer["conversion_rate"], answer["by_status"]["LOST"]) == (0, None, 0)
    abandonment = get(metrics_api, "abandonment-rate", people.admin_h, **NOVEMBER)
    assert (abandonment["abandonment_rate"], abandonment["common_abandonment_stage"]) == (None, None)
    funnel = get(metrics_api, "funnel", people.admin_h, **NOVEMBER)
    assert [(s["count"], s["dropoff"]) for s in funnel["funnel"]] == [(0, 0.0), (0, None), (0, None), (0, None)]

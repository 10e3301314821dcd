"""A secretary's numbers, the productivity report and the leaderboard, against the hand-counted clinic described
in test_metrics_dashboard.py (its `clinic` fixture). Her work is what she did: her messages, the waits her
messages ended (W7 in Bia's C0 is Ana's), her leads converted in the period (L3, created before it, counts)."""

from __future__ import annotations

import uuid

import pytest

from shared.db import session_scope
from tests.functions.test_metrics_dashboard import PERIOD, PREVIOUS, add_secretary, build_clinic, figures, get

USER_FIELDS = ("messages_sent", "conversations_handled", "leads_converted", "avg_response_time_seconds",
               "sla_compliance_rate", "nps", "n")  # fmt: skip
CARD = ("messages_sent", "leads_converted", "avg_response_time_seconds")


@pytest.fixture
def clinic(people):
    return build_clinic(people)


def test_my_numbers_are_what_i_did(metrics_api, clinic):
    ana = get(metrics_api, "metrics/my", clinic.ana_h, **PERIOD)
    # Sent: C1 09:02 and 00:09, C3 14:05, C0 10:30. Handled: C1, C3 (C0 is Bia's). Converted: L1 and L3 (L5 is
    # deleted). Waits she ended: W1 120, W2 600, W5 300, W7 1800; within the SLA of 300: W1, W5.
    assert figures(ana, USER_FIELDS) == {"messages_sent": 4, "conversations_handled": 2, "leads_converted": 2,
                                         "avg_response_time_seconds": 705.0, "sla_compliance_rate": 50.0,
                                         "nps": 100.0, "n": 4}  # fmt: skip
    assert ana["sla_target_seconds"] == 300 and ana["user_id"] == str(clinic.ana.id)
    assert ana["previous"] == {"messages_sent": 0, "conversations_handled": 0, "leads_converted": 0, "nps": None,
                               "avg_response_time_seconds": None, "sla_compliance_rate": None, "n": 0}  # fmt: skip
    bia = get(metrics_api, "metrics/my", clinic.bia_h, **PERIOD)
    # Sent: C2 10:09. Handled: C0 (W7's messages) and C2. Ended: W4 240 (W3 was the bot's, W7 Ana's).
    assert figures(bia, USER_FIELDS) == {"messages_sent": 1, "conversations_handled": 2, "leads_converted": 0,
                                         "avg_response_time_seconds": 240.0, "sla_compliance_rate": 100.0,
                                         "nps": -100.0, "n": 1}  # fmt: skip
    # The week before: her Sunday 22:03 in C0, W0 180.
    assert bia["previous"] == {"messages_sent": 1, "conversations_handled": 1, "leads_converted": 0, "nps": None,
                               "avg_response_time_seconds": 180.0, "sla_compliance_rate": 100.0, "n": 1}  # fmt: skip
    assert bia["delta_pct"]["messages_sent"] == 0.0 and bia["delta_pct"]["avg_response_time_seconds"] == 33.3


def test_my_numbers_in_utc(metrics_api, clinic):
    bia = get(metrics_api, "metrics/my", clinic.bia_h, tz="UTC", **PERIOD)
    # Sunday 22:03 in São Paulo is Monday 01:03 UTC: in the week, with W0.
    assert figures(bia, USER_FIELDS) == {"messages_sent": 2, "conversations_handled": 2, "leads_converted": 0,
                                         "avg_response_time_seconds": 210.0, "sla_compliance_rate": 100.0,
                                         "nps": -100.0, "n": 2}  # fmt: skip


def test_one_users_numbers_admin_any_secretary_herself_only(metrics_api, clinic):
    bia_id = str(clinic.bia.id)
    by_admin = get(metrics_api, f"metrics/user/{bia_id}", clinic.admin_h, **PERIOD)
    assert figures(by_admin, USER_FIELDS) == figures(get(metrics_api, "metrics/my", clinic.bia_h, **PERIOD),
                                                     USER_FIELDS)  # fmt: skip
    assert by_admin["user_id"] == bia_id
    get(metrics_api, f"metrics/user/{bia_id}", clinic.ana_h, 403, **PERIOD)
    get(metrics_api, "metrics/my", clinic.ana_h, 403, user_id=bia_id, **PERIOD)
    assert get(metrics_api, f"metrics/user/{clinic.ana.id}", clinic.ana_h, **PERIOD)["messages_sent"] == 4
    get(metrics_api, f"metrics/user/{uuid.uuid4()}", clinic.admin_h, 404, **PERIOD)
    mine = get(metrics_api, "metrics/my", clinic.admin_h, **PERIOD)  # the ADMIN's own: she sent nothing
    assert (mine["user_id"], mine["messages_sent"], mine["avg_response_time_seconds"]) == (str(clinic.admin.id), 0,
                                                                                           None)  # fmt: skip
    assert metrics_api.get("/api/v1/metrics/my").status_code == 401


TWO_WEEKS = {"start_date": "2026-10-28", "end_date": "2026-11-08"}  # Wed of 2026-W44 to Sun of 2026-W45


def test_productivity_of_one_secretary_with_its_weekly_trend(metrics_api, clinic):
    ana = get(metrics_api, "reports/productivity", clinic.ana_h, **TWO_WEEKS)
    assert (ana["user_id"], ana["period"]) == (str(clinic.ana.id), "2026-10-28 to 2026-11-08")
    assert figures(ana, CARD) == {"messages_sent": 4, "leads_converted": 2, "avg_response_time_seconds": 705.0}
    assert ana["weekly"] == [
        {"week": "2026-W44", "messages_sent": 0, "leads_converted": 0, "avg_response_time_seconds": None},
        {"week": "2026-W45", "messages_sent": 4, "leads_converted": 2, "avg_response_time_seconds": 705.0},
    ]
    assert "users" not in ana
    bia = get(metrics_api, "reports/productivity", clinic.admin_h, user_id=str(clinic.bia.id), **TWO_WEEKS)
    # Sunday 11-01 (W44): 22:03, W0 180; W45: 10:09, W4 240. The whole: (180 + 240) / 2.
    assert figures(bia, CARD) == {"messages_sent": 2, "leads_converted": 0, "avg_response_time_seconds": 210.0}
    assert [week["avg_response_time_seconds"] for week in bia["weekly"]] == [180.0, 240.0]
    bia_utc = get(metrics_api, "reports/productivity", clinic.bia_h, tz="UTC", **TWO_WEEKS)
    assert [week["messages_sent"] for week in bia_utc["weekly"]] == [0, 2]  # 22:03 is Monday 01:03 UTC
    get(metrics_api, "reports/productivity", clinic.ana_h, 403, user_id=str(clinic.bia.id), **TWO_WEEKS)


def test_productivity_of_the_team_for_an_admin(metrics_api, clinic):
    team = get(metrics_api, "reports/productivity", clinic.admin_h, **PERIOD)
    # Every secretary message (Ana 4, Bia 1), every lead converted (L1, L3), every wait a person ended (W1, W2,
    # W4, W5, W7: 3060 / 5).
    assert figures(team, (*CARD, "n")) == {"messages_sent": 5, "leads_converted": 2,
                                           "avg_response_time_seconds": 612.0, "n": 5}  # fmt: skip
    assert team["user_id"] is None
    assert team["weekly"] == [{"week": "2026-W45", "messages_sent": 5, "leads_converted": 2,
                               "avg_response_time_seconds": 612.0}]  # fmt: skip
    assert team["users"] == [  # active secretaries by name; Dora is inactive
        {"user_id": str(clinic.ana.id), "name": "Ana Silva", "messages_sent": 4, "leads_converted": 2,
         "avg_response_time_seconds": 705.0},
        {"user_id": str(clinic.bia.id), "name": "Bia Souza", "messages_sent": 1, "leads_converted": 0,
         "avg_response_time_seconds": 240.0},
        {"user_id": str(clinic.carla.id), "name": "Carla Dias", "messages_sent": 0, "leads_converted": 0,
         "avg_response_time_seconds": None},
    ]  # fmt: skip
    assert team["previous"] == {"messages_sent": 1, "leads_converted": 0, "avg_response_time_seconds": 180.0, "n": 1}


def board(body: dict) -> list[tuple]:
    return [(row["rank"], row["name"], row["score"]) for row in body["leaderboard"]]


def test_the_leaderboard_scores_counted_by_hand(metrics_api, clinic):
    body = get(metrics_api, "metrics/leaderboard", clinic.admin_h, **PERIOD)
    # Ana 2 converted, 705.0 s, NPS 100; Bia 0, 240.0 s, -100; Carla 0, no answer, no feedback.
    # Points: conversions Ana 100, Bia 0, Carla 0; response (lower is better) Bia 100, Ana 0, Carla none: 0;
    # NPS Ana 100, Bia 0, Carla 0. Ana 0.5 x 100 + 0.2 x 100 = 70; Bia 0.3 x 100 = 30; Carla 0.
    assert board(body) == [(1, "Ana Silva", 70.0), (2, "Bia Souza", 30.0), (3, "Carla Dias", 0.0)]
    ana = body["leaderboard"][0]
    assert (ana["user_id"], ana["leads_converted"], ana["avg_response_time_seconds"], ana["nps"]) == (
        str(clinic.ana.id), 2, 705.0, 100.0)  # fmt: skip
    assert ana["points"] == {"leads_converted": 100.0, "avg_response_time_seconds": 0.0, "nps": 100.0}
    assert body["weights"] == {"leads_converted": 0.5, "avg_response_time_seconds": 0.3, "nps": 0.2}
    assert body["secretaries"] == 3
    # Only response time and NPS, equally: Ana (0 + 100) / 2 = 50, Bia (100 + 0) / 2 = 50, a tie ordered by name.
    even = get(metrics_api, "metrics/leaderboard", clinic.admin_h, weight_conversions=0, weight_response_time=1,
               weight_satisfaction=1, **PERIOD)  # fmt: skip
    assert board(even) == [(1, "Ana Silva", 50.0), (2, "Bia Souza", 50.0), (3, "Carla Dias", 0.0)]


def test_the_leaderboard_leaves_out_a_criterion_nobody_has(metrics_api, clinic):
    body = get(metrics_api, "metrics/leaderboard", clinic.admin_h, **PREVIOUS)
    # The week before: nobody converted (all equal: 100 each), only Bia answered (W0: 100, the others 0), no
    # feedback at all: NPS is left out and 0.5 + 0.3 renormalised. Ana and Carla 50 / 0.8; Bia 80 / 0.8.
    assert board(body) == [(1, "Bia Souza", 100.0), (2, "Ana Silva", 62.5), (3, "Carla Dias", 62.5)]
    assert body["weights"] == {"leads_converted": 0.625, "avg_response_time_seconds": 0.375}
    assert body["leaderboard"][1]["points"] == {"leads_converted": 100.0, "avg_response_time_seconds": 0.0}


def test_the_leaderboard_shows_the_top_ten_and_refuses_bad_weights(metrics_api, clinic):
    with session_scope() as session:
        for number in range(1, 10):
            add_secretary(session, f"Zé {number:02d}")
    body = get(metrics_api, "metrics/leaderboard", clinic.admin_h, **PERIOD)
    # The nine idle newcomers score 0 like Carla: after Ana and Bia, by name, Carla then Zé 01-07.
    expected = ["Ana Silva", "Bia Souza", "Carla Dias", *(f"Zé {number:02d}" for number in range(1, 8))]
    assert [row["name"] for row in body["leaderboard"]] == expected and body["secretaries"] == 12
    for weights in ({"weight_conversions": 0, "weight_response_time": 0, "weight_satisfaction": 0},
                    {"weight_conversions": -1}, {"weight_satisfaction": "muito"}):  # fmt: skip
        get(metrics_api, "metrics/leaderboard", clinic.admin_h, 422, **weights, **PERIOD)
    get(metrics_api, "metrics/leaderboard", clinic.ana_h, 403, **PERIOD)

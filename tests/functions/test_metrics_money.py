"""The money metrics (cards 136, 144, 154) on the hand-counted clinic of test_metrics_leads, with its inputs set
through the clinic settings API: monthly operational cost 3000, implementation 12000, average ticket 400, a
secretary's hour 30.

Waits the bot answered (a wait opens at a patient's message after ours or none, and our next message ends it):
November in São Paulo: C1 1, C2 1 (its 23:59 wait is still open), C5 2, C6 1 (its 11-20 wait is open), C7 1,
C9 1, Cx 1, Cy 1, Cz 1, Cw 1, Cv 1, C10 1 (the 11-02 one) = 13; C4's was a secretary's. October 2-31: C10 1 (10-31),
C12 2 = 3.
"""

from __future__ import annotations

import pytest

from tests.functions.test_metrics_leads import NOVEMBER, build_clinic, get

MONEY = {"monthly_operational_cost": "3000.00", "implementation_cost": "12000.00", "avg_transaction_value": "400.00",
         "secretary_hourly_cost": "30.00"}  # fmt: skip


def set_money(secretary_api, headers: dict, **values: str) -> None:
    response = secretary_api.put("/api/v1/clinic/settings", headers=headers, json=values)
    assert response.status_code == 200, response.json


@pytest.fixture
def clinic(people, secretary_api):
    built = build_clinic(people)
    set_money(secretary_api, people.admin_h, **MONEY)
    return built


def test_cost_per_lead_prorates_the_monthly_cost_and_compares_with_the_previous_period(metrics_api, clinic):
    answer = get(metrics_api, "cost-per-lead", clinic.people.admin_h, **NOVEMBER)
    # 30 days: 3000 x 30 / 30; converted leads created in November: L5, L6. October: L12 alone, 3000 / 1.
    assert (answer["operational_cost"], answer["monthly_operational_cost"]) == (3000.0, 3000.0)
    assert (answer["leads_converted"], answer["cost_per_lead"]) == (2, 1500.0)
    assert (answer["previous_month_cost_per_lead"], answer["improvement_percent"]) == (3000.0, 50.0)
    assert answer["previous"] == {"leads_converted": 1, "cost_per_lead": 3000.0, "n": 1}
    assert answer["delta_pct"] == {"leads_converted": 100.0, "cost_per_lead": -50.0}


def test_cost_per_lead_over_half_a_month_and_with_the_cards_input(metrics_api, clinic):
    half = get(metrics_api, "cost-per-lead", clinic.people.admin_h, start_date="2026-11-11", end_date="2026-11-25")
    # 15 days: 3000 x 15 / 30 = 1500, over L5 and L6; 27 Oct - 10 Nov converted nothing: no cost per lead.
    assert (half["operational_cost"], half["cost_per_lead"]) == (1500.0, 750.0)
    assert (half["previous_month_cost_per_lead"], half["improvement_percent"]) == (None, None)
    given = get(metrics_api, "cost-per-lead", clinic.people.admin_h, operational_cost="6000", **NOVEMBER)
    assert (given["operational_cost"], given["cost_per_lead"], given["previous_month_cost_per_lead"]) == (
        6000.0, 3000.0, 6000.0)  # fmt: skip


def test_a_settings_change_reaches_the_next_answer(metrics_api, secretary_api, clinic):
    assert get(metrics_api, "cost-per-lead", clinic.people.admin_h, **NOVEMBER)["cost_per_lead"] == 1500.0
    set_money(secretary_api, clinic.people.admin_h, monthly_operational_cost="4500.00")
    answer = get(metrics_api, "cost-per-lead", clinic.people.admin_h, **NOVEMBER)
    assert (answer["operational_cost"], answer["cost_per_lead"]) == (4500.0, 2250.0)


def test_roi_values_the_bots_answers_in_secretary_hours(metrics_api, clinic):
    answer = get(metrics_api, "roi", clinic.people.admin_h, **NOVEMBER)
    # 13 answers x 2 min = 0.433 h x 30 = 13.00 in 30 days; (13 - 3000) / 3000 x 100; 13 < 3000: never pays back.
    assert (answer["bot_answers"], answer["hours_saved"], answer["period_savings"]) == (13, 0.43, 13.0)
    assert (answer["monthly_savings"], answer["roi_percent"], answer["payback_months"]) == (13.0, -99.6, None)
    assert (answer["implementation_cost"], answer["monthly_operational_cost"], answer["minutes_per_answer"]) == (
        12000.0, 3000.0, 2.0)  # fmt: skip
    # October: 3 answers = 0.1 h = 3.00; (3 - 3000) / 3000.
    assert (answer["previous"]["bot_answers"], answer["previous"]["roi_percent"]) == (3, -99.9)
    assert answer["delta_pct"]["monthly_savings"] == 333.3


def test_roi_with_the_cards_inputs_and_a_shorter_period(metrics_api, clinic):
    cheap = {"implementation_cost": "100", "monthly_operational_cost": "10", "minutes_per_answer": "10"}
    month = get(metrics_api, "roi", clinic.people.admin_h, **cheap, **NOVEMBER)
    # 13 x 10 min = 2.17 h x 30 = 65; (65 - 10) / 10 x 100 = 550; 100 / (65 - 10) = 1.82 months.
    assert (month["monthly_savings"], month["roi_percent"], month["payback_months"]) == (65.0, 550.0, 1.82)
    half = get(metrics_api, "roi", clinic.people.admin_h, start_date="2026-11-16", end_date="2026-11-30", **cheap)
    # 16-30 Nov: C5's second, C6, C7, C9, Cx, Cy, Cz, Cw = 8 answers = 80 min = 40.00 in 15 days, 80.00 a month;
    # running cost 10 x 15 / 30 = 5: (40 - 5) / 5 = 700 %; 100 / (80 - 10) = 1.43 months.
    assert (half["bot_answers"], half["hours_saved"], half["period_savings"]) == (8, 1.33, 40.0)
    assert (half["monthly_savings"], half["period_operational_cost"]) == (80.0, 5.0)
    assert (half["roi_percent"], half["payback_months"]) == (700.0, 1.43)


def test_roi_of_one_secretarys_conversations(metrics_api, clinic):
    people = clinic.people
    answer = get(metrics_api, "roi", people.admin_h, user_id=str(people.bia.id), **NOVEMBER)
    # Bia's: C5 2, C7 1, Cz 1, Cv 1, C10 1 = 6 answers = 12 min = 0.2 h x 30 = 6.00.
    assert (answer["bot_answers"], answer["period_savings"]) == (6, 6.0)


def test_ltv_is_the_cards_product_overall_and_per_source(metrics_api, clinic):
    answer = get(metrics_api, "ltv", clinic.people.admin_h, **NOVEMBER)
    # 9 leads, 2 converted, 3 returning: 400 x 2/9 x 3/9 = 29.63.
    assert (answer["avg_transaction_value"], answer["conversion_rate"], answer["retention_rate"]) == (
        400.0, 0.222, 0.333)  # fmt: skip
    assert (answer["ltv"], answer["n"]) == (29.63, 9)
    assert answer["by_source"] == [
        # L1 L2 L5 L7 L9: L5 converted, L1 L5 returned: 400 x 0.2 x 0.4.
        {"source": "WHATSAPP", "leads": 5, "conversion_rate": 0.2, "retention_rate": 0.4, "ltv": 32.0},
        {"source": "MANUAL", "leads": 1, "conversion_rate": 0.0, "retention_rate": 0.0, "ltv": 0.0},
        # L4 L6: L6 converted and returned: 400 x 0.5 x 0.5.
        {"source": "REFERRAL", "leads": 2, "conversion_rate": 0.5, "retention_rate": 0.5, "ltv": 100.0},
        {"source": "OTHER", "leads": 1, "conversion_rate": 0.0, "retention_rate": 0.0, "ltv": 0.0},
    ]
    # October: 3 leads, L12 converted, L10 L12 returned: 400 x 1/3 x 2/3 = 88.89.
    assert answer["previous"] == {"conversion_rate": 0.333, "retention_rate": 0.667, "ltv": 88.89, "n": 3}
    assert answer["delta_pct"]["ltv"] == -66.7
    given = get(metrics_api, "ltv", clinic.people.admin_h, avg_transaction_value="900", **NOVEMBER)
    assert given["ltv"] == 66.67  # 900 x 6 / 81


def test_money_is_for_admins_only(metrics_api, clinic):
    for path in ("cost-per-lead", "roi", "ltv"):
        response = metrics_api.get(f"/api/v1/metrics/{path}", headers=clinic.people.ana_h, query_string=NOVEMBER)
        assert response.status_code == 403, path
        assert metrics_api.get(f"/api/v1/metrics/{path}").status_code == 401

"""GET/PUT /api/v1/clinic/settings: ADMIN only, validated, audited, and read by the metrics at once."""

from __future__ import annotations

from sqlalchemy import select

from shared.audit.models import AuditLog
from shared.db import session_scope

URL = "/api/v1/clinic/settings"


def test_a_new_clinic_has_the_defaults(secretary_api, people):
    got = secretary_api.get(URL, headers=people.admin_h)
    assert got.status_code == 200, got.json
    assert got.json["timezone"] == "America/Sao_Paulo" and got.json["sla_seconds"] == 300
    assert got.json["business_hours"]["monday"] == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert got.json["business_hours"]["sunday"] == [] and got.json["holiday_subdivision"] == "SP"


def test_an_admin_changes_some_fields_and_the_rest_stay(secretary_api, people):
    body = {"sla_seconds": 600, "competitors": ["Clínica Sorriso", " clínica  sorriso ", "DermaMais"],
            "business_hours": {"monday": [["13:30", "18:00"], ["07:30", "12:00"]]},
            "closures": [{"start": "2026-12-24", "end": "2026-12-31", "reason": "Recesso"}],
            "monthly_operational_cost": "5000.00", "holiday_subdivision": "rj"}  # fmt: skip
    changed = secretary_api.put(URL, json=body, headers=people.admin_h)
    assert changed.status_code == 200, changed.json
    settings = changed.json
    assert settings["sla_seconds"] == 600 and settings["timezone"] == "America/Sao_Paulo"
    assert settings["competitors"] == ["Clínica Sorriso", "DermaMais"]  # the same name twice is one
    assert settings["business_hours"]["monday"] == [["07:30", "12:00"], ["13:30", "18:00"]]  # sorted
    assert settings["business_hours"]["tuesday"] == []  # a weekday left out of the map is closed
    assert settings["holiday_subdivision"] == "RJ" and settings["monthly_operational_cost"] == "5000.00"
    assert secretary_api.get(URL, headers=people.admin_h).json == settings
    with session_scope() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "clinic_settings.update")).one()
        assert entry.old_value["sla_seconds"] == 300 and entry.new_value["sla_seconds"] == 600
        assert "timezone" not in entry.new_value  # only what changed


def test_bad_values_are_422_naming_the_field_and_change_nothing(secretary_api, people):
    before = secretary_api.get(URL, headers=people.admin_h).json
    cases = [
        ({"timezone": "-03:00"}, "timezone"),
        ({"timezone": "America/Atlantida"}, "timezone"),
        ({"business_hours": {"monday": [["08:00", "12:00"], ["11:00", "13:00"]]}}, "business_hours"),
        ({"business_hours": {"segunda": [["08:00", "12:00"]]}}, "business_hours"),
        ({"business_hours": {"monday": [["18:00", "08:00"]]}}, "business_hours"),
        ({"holiday_subdivision": "XX"}, "holiday_subdivision"),
        ({"sla_seconds": 0}, "sla_seconds"),
        ({"closures": [{"start": "2026-12-31", "end": "2026-12-24"}]}, "closures.0"),
        ({"monthly_operational_cost": "-1"}, "monthly_operational_cost"),
        ({"colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        refused = secretary_api.put(URL, json=body, headers=people.admin_h)
        assert refused.status_code == 422, (body, refused.json)
        assert refused.headers["content-type"] == "application/problem+json"
        assert any(error["field"].startswith(field) for error in refused.json["errors"]), (body, refused.json)
    assert secretary_api.get(URL, headers=people.admin_h).json == before


def test_a_secretary_may_neither_read_nor_change_them(secretary_api, people):
    assert secretary_api.get(URL, headers=people.ana_h).status_code == 403
    refused = secretary_api.put(URL, json={"sla_seconds": 60}, headers=people.ana_h)
    assert refused.status_code == 403 and "MANAGE_CLINIC_SETTINGS" in refused.json["detail"]
    assert secretary_api.get(URL).status_code == 401


def test_the_metrics_read_the_new_zone_at_once(secretary_api, metrics_api, people):
    url = "/api/v1/metrics/heatmap?start_date=2026-11-02&end_date=2026-11-02"
    assert metrics_api.get(url, headers=people.admin_h).json["tz"] == "America/Sao_Paulo"
    assert secretary_api.put(URL, json={"timezone": "America/Manaus"}, headers=people.admin_h).status_code == 200
    assert metrics_api.get(url, headers=people.admin_h).json["tz"] == "America/Manaus"  # the cache key moved too

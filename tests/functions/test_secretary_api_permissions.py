"""Permissions per role (card 110): defaults, an ADMIN's changes taking effect at once, and their audit."""

from __future__ import annotations

from shared.users.models import Role
from shared.users.permissions import DEFAULT_GRANTS, Permission

ROLE_USER = "/api/v1/roles/USER/permissions"


def test_me_names_what_the_role_may_do(secretary_api, people):
    ana = secretary_api.get("/api/v1/auth/me", headers=people.ana_h).json
    admin = secretary_api.get("/api/v1/auth/me", headers=people.admin_h).json
    assert set(ana["permissions"]) == {p.value for p in DEFAULT_GRANTS[Role.USER]}
    assert "READ_LEADS" in ana["permissions"] and "VIEW_AUDIT_LOGS" not in ana["permissions"]
    assert set(admin["permissions"]) == {p.value for p in Permission}


def test_the_catalogue_is_for_who_manages_users(secretary_api, people):
    assert secretary_api.get("/api/v1/permissions", headers=people.ana_h).status_code == 403
    catalogue = secretary_api.get("/api/v1/permissions", headers=people.admin_h).json
    by_name = {item["name"]: item for item in catalogue}
    assert set(by_name) == {p.value for p in Permission}
    assert by_name["READ_LEADS"]["default_roles"] == ["ADMIN", "USER"]
    assert by_name["MANAGE_WEBHOOKS"]["default_roles"] == ["ADMIN"]
    assert all(item["description"] for item in catalogue)


def test_taking_a_permission_away_answers_403_at_once_and_is_audited(secretary_api, people):
    assert secretary_api.get("/api/v1/leads", headers=people.ana_h).status_code == 200
    kept = sorted(p.value for p in DEFAULT_GRANTS[Role.USER] - {Permission.READ_LEADS})
    changed = secretary_api.put(ROLE_USER, json={"permissions": kept}, headers=people.admin_h)
    assert changed.status_code == 200, changed.json
    assert changed.json["removed"] == ["READ_LEADS"] and changed.json["added"] == []

    refused = secretary_api.get("/api/v1/leads", headers=people.ana_h)
    assert refused.status_code == 403
    assert "READ_LEADS" in refused.json["detail"]
    assert secretary_api.get("/api/v1/conversations", headers=people.ana_h).status_code == 200
    assert secretary_api.get("/api/v1/leads", headers=people.admin_h).status_code == 200  # ADMIN keeps all

    audit = secretary_api.get("/api/v1/audit-logs?action=role.permissions_changed", headers=people.admin_h).json
    [entry] = audit["items"]
    assert "READ_LEADS" in entry["old_value"]["permissions"]
    assert "READ_LEADS" not in entry["new_value"]["permissions"]
    assert entry["user_id"] == str(people.admin.id)


def test_a_granted_permission_opens_its_routes(secretary_api, people):
    assert secretary_api.get("/api/v1/audit-logs", headers=people.ana_h).status_code == 403
    wanted = sorted({p.value for p in DEFAULT_GRANTS[Role.USER]} | {"VIEW_AUDIT_LOGS"})
    assert secretary_api.put(ROLE_USER, json={"permissions": wanted}, headers=people.admin_h).status_code == 200
    assert secretary_api.get("/api/v1/audit-logs", headers=people.ana_h).status_code == 200
    assert secretary_api.get(ROLE_USER, headers=people.admin_h).json["added"] == ["VIEW_AUDIT_LOGS"]

    defaults = sorted(p.value for p in DEFAULT_GRANTS[Role.USER])
    back = secretary_api.put(ROLE_USER, json={"permissions": defaults}, headers=people.admin_h).json
    assert back["added"] == [] and back["removed"] == []
    assert secretary_api.get("/api/v1/audit-logs", headers=people.ana_h).status_code == 403


def test_changes_that_would_lock_out_or_escalate_are_refused_and_change_nothing(secretary_api, people):
    admin_role = secretary_api.put("/api/v1/roles/ADMIN/permissions", json={"permissions": []}, headers=people.admin_h)
    assert admin_role.status_code == 409
    escalate = secretary_api.put(ROLE_USER, json={"permissions": ["MANAGE_USERS"]}, headers=people.admin_h)
    assert escalate.status_code == 422
    assert "MANAGE_USERS" in escalate.json["errors"][0]["message"]
    unknown = secretary_api.put(ROLE_USER, json={"permissions": ["FLY"]}, headers=people.admin_h)
    assert unknown.status_code == 422
    assert secretary_api.get("/api/v1/roles/OWNER/permissions", headers=people.admin_h).status_code == 422
    by_user = secretary_api.put(ROLE_USER, json={"permissions": []}, headers=people.ana_h)
    assert by_user.status_code == 403

    now = secretary_api.get(ROLE_USER, headers=people.admin_h).json
    assert now["added"] == [] and now["removed"] == []
    assert (
        secretary_api.get("/api/v1/audit-logs?action=role.permissions_changed", headers=people.admin_h).json["total"]
        == 0
    )

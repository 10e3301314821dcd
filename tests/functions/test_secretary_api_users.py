"""Users administration: ADMIN only, validated, audited."""

from sqlalchemy import func, select

from shared.audit.models import AuditLog
from shared.db import session_scope
from shared.users.models import Role, User
from tests.conftest import bearer


def _count_users() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(User))


def test_admin_creates_lists_gets_and_updates_a_secretary(secretary_api, make_user, login):
    token = login(make_user(Role.ADMIN))["access_token"]
    body = {"email": "Bia@Example.com", "full_name": "Beatriz Lima", "password": "segredo-forte-1"}

    created = secretary_api.post("/api/v1/users", json=body, headers=bearer(token))
    user_id = created.json["id"]
    listed = secretary_api.get("/api/v1/users?role=USER", headers=bearer(token))
    fetched = secretary_api.get(f"/api/v1/users/{user_id}", headers=bearer(token))
    renamed = secretary_api.patch(f"/api/v1/users/{user_id}", json={"full_name": "Bia Lima"}, headers=bearer(token))

    assert created.status_code == 201
    assert created.json["email"] == "bia@example.com" and created.json["role"] == "USER"
    assert "password" not in created.json and "password_hash" not in created.json
    assert listed.json["total"] == 1 and listed.json["items"][0]["id"] == user_id
    assert fetched.json["full_name"] == "Beatriz Lima"
    assert renamed.status_code == 200 and renamed.json["full_name"] == "Bia Lima"
    with session_scope() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_id == user_id)).all()
    assert sorted(actions) == ["user.created", "user.updated"]


def test_a_user_gets_403_on_admin_endpoints(secretary_api, make_user, login):
    token = login(make_user(Role.USER))["access_token"]

    listing = secretary_api.get("/api/v1/users", headers=bearer(token))
    creating = secretary_api.post("/api/v1/users", json={"email": "x@example.com", "full_name": "X",
                                                         "password": "12345678"}, headers=bearer(token))  # fmt: skip

    assert listing.status_code == creating.status_code == 403
    assert listing.json["title"] == "Forbidden"
    assert _count_users() == 1


def test_no_token_gets_401_on_every_users_route(secretary_api, make_user):
    user = make_user()
    for method, path in [
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
        ("get", f"/api/v1/users/{user.id}"),
        ("patch", f"/api/v1/users/{user.id}"),
        ("post", f"/api/v1/users/{user.id}/deactivate"),
    ]:
        assert getattr(secretary_api, method)(path).status_code == 401, path


def test_duplicate_email_is_a_409_and_writes_nothing(secretary_api, make_user, login):
    admin = make_user(Role.ADMIN)
    token = login(admin)["access_token"]

    response = secretary_api.post("/api/v1/users", json={"email": admin.email.upper(), "full_name": "Dup",
                                                         "password": "12345678"}, headers=bearer(token))  # fmt: skip

    assert response.status_code == 409
    assert _count_users() == 1


def test_invalid_fields_are_named_and_nothing_is_written(secretary_api, make_user, login):
    token = login(make_user(Role.ADMIN))["access_token"]

    response = secretary_api.post("/api/v1/users", json={"email": "not-an-email", "full_name": "",
                                                         "password": "short", "role": "OWNER"},
                                  headers=bearer(token))  # fmt: skip

    assert response.status_code == 422
    assert {error["field"] for error in response.json["errors"]} == {"email", "full_name", "password", "role"}
    assert _count_users() == 1


def test_unknown_fields_in_an_update_are_rejected(secretary_api, make_user, login):
    token = login(make_user(Role.ADMIN))["access_token"]
    user = make_user()

    response = secretary_api.patch(f"/api/v1/users/{user.id}", json={"email": "new@example.com"},
                                   headers=bearer(token))  # fmt: skip

    assert response.status_code == 422 and response.json["errors"][0]["field"] == "email"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(secretary_api, make_user, login):
    admin = make_user(Role.ADMIN)
    token = login(admin)["access_token"]

    demote = secretary_api.patch(f"/api/v1/users/{admin.id}", json={"role": "USER"}, headers=bearer(token))
    deactivate = secretary_api.post(f"/api/v1/users/{admin.id}/deactivate", headers=bearer(token))

    assert demote.status_code == deactivate.status_code == 409
    second = make_user(Role.ADMIN)
    assert secretary_api.patch(f"/api/v1/users/{second.id}", json={"role": "USER"},
                               headers=bearer(token)).status_code == 200  # fmt: skip


def test_unknown_user_is_404_and_pagination_is_bounded(secretary_api, make_user, login):
    token = login(make_user(Role.ADMIN))["access_token"]
    for _ in range(3):
        make_user()

    missing = secretary_api.get("/api/v1/users/00000000-0000-0000-0000-000000000000", headers=bearer(token))
    page = secretary_api.get("/api/v1/users?page=2&limit=2", headers=bearer(token))
    too_big = secretary_api.get("/api/v1/users?limit=101", headers=bearer(token))

    assert missing.status_code == 404
    assert page.json["total"] == 4 and page.json["pages"] == 2 and len(page.json["items"]) == 2
    assert too_big.status_code == 422

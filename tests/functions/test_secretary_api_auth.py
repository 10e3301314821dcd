"""Login, refresh, logout and me, through the functions-framework app."""

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import func, select

from shared.config import get_settings
from shared.db import session_scope
from shared.users.models import RefreshToken, Role
from tests.conftest import PASSWORD, bearer


def test_login_returns_tokens_that_open_me(secretary_api, make_user, login):
    user = make_user(Role.USER)

    tokens = login(user)
    response = secretary_api.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))

    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 15 * 60
    assert response.status_code == 200
    assert response.json["email"] == user.email and response.json["role"] == "USER"
    assert response.json["last_login_at"] is not None


def test_wrong_password_and_unknown_email_get_the_same_401(secretary_api, make_user):
    user = make_user()

    wrong_password = secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": "nope-nope"})
    unknown_email = secretary_api.post("/api/v1/auth/login", json={"email": "ghost@example.com", "password": PASSWORD})

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json["detail"] == unknown_email.json["detail"] == "Invalid email or password"
    assert wrong_password.mimetype == "application/problem+json"


def test_email_is_case_insensitive(secretary_api, make_user):
    user = make_user(email="ana.souza@example.com")

    response = secretary_api.post("/api/v1/auth/login", json={"email": "Ana.Souza@Example.COM", "password": PASSWORD})

    assert response.status_code == 200, response.json
    assert user.email == "ana.souza@example.com"


def test_five_failures_lock_the_account_for_a_while(secretary_api, make_user):
    user = make_user()
    attempt = {"email": user.email, "password": "wrong-password"}

    statuses = [secretary_api.post("/api/v1/auth/login", json=attempt).status_code for _ in range(5)]
    locked = secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})

    assert statuses == [401] * 5
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= get_settings().login_lockout_seconds


def test_a_success_resets_the_failure_count(secretary_api, make_user, login):
    user = make_user()
    for _ in range(4):
        secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": "wrong-password"})
    login(user)

    after = [
        secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": "wrong"}).status_code
        for _ in range(4)
    ]

    assert after == [401] * 4


def test_refresh_rotates_and_the_old_token_stops_working(secretary_api, make_user, login):
    tokens = login(make_user())

    rotated = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert rotated.status_code == 200
    assert rotated.json["refresh_token"] != tokens["refresh_token"]
    assert secretary_api.get("/api/v1/auth/me", headers=bearer(rotated.json["access_token"])).status_code == 200


def test_replaying_a_used_refresh_token_revokes_the_whole_family(secretary_api, make_user, login):
    tokens = login(make_user())
    rotated = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json

    replay = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    newest = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    me = secretary_api.get("/api/v1/auth/me", headers=bearer(rotated["access_token"]))

    assert replay.status_code == 401 and "revoked" in replay.json["detail"]
    assert newest.status_code == 401
    assert me.status_code == 401
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(RefreshToken.revoked_at.is_(None))) == 0


def test_logout_revokes_access_and_refresh(secretary_api, make_user, login):
    tokens = login(make_user())

    logout = secretary_api.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
    me = secretary_api.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    refresh = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert logout.status_code == 204
    assert me.status_code == 401 and refresh.status_code == 401


def test_other_logins_survive_a_logout(secretary_api, make_user, login):
    user = make_user()
    phone, desktop = login(user), login(user)

    secretary_api.post("/api/v1/auth/logout", headers=bearer(phone["access_token"]))

    assert secretary_api.get("/api/v1/auth/me", headers=bearer(desktop["access_token"])).status_code == 200


def _forge(claims: dict, key: str | None = None) -> str:
    settings = get_settings()
    return jwt.encode(claims, key or settings.jwt_secret_key.get_secret_value(), algorithm="HS256")


def test_expired_tampered_and_malformed_tokens_get_401(secretary_api, make_user, login):
    user = make_user()
    access = login(user)["access_token"]
    header, payload, signature = access.split(".")
    now = datetime.now(UTC)
    claims = {"sub": str(user.id), "typ": "access", "fam": str(user.id), "jti": str(user.id), "iss": "clinicbot"}
    expired = _forge(claims | {"iat": now - timedelta(hours=2), "exp": now - timedelta(hours=1)})
    foreign = _forge(claims | {"iat": now, "exp": now + timedelta(hours=1)}, key="x" * 40)
    tampered = f"{header}.{payload[:-2]}AA.{signature}"

    for token in (expired, foreign, tampered, "not-a-jwt", login(user)["refresh_token"]):
        response = secretary_api.get("/api/v1/auth/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert secretary_api.get("/api/v1/auth/me").status_code == 401


def test_a_deactivated_user_is_locked_out_at_once(secretary_api, make_user, login):
    admin, user = make_user(Role.ADMIN), make_user(Role.USER)
    user_tokens, admin_token = login(user), login(admin)["access_token"]

    secretary_api.post(f"/api/v1/users/{user.id}/deactivate", headers=bearer(admin_token))

    assert secretary_api.get("/api/v1/auth/me", headers=bearer(user_tokens["access_token"])).status_code == 401
    refresh = secretary_api.post("/api/v1/auth/refresh", json={"refresh_token": user_tokens["refresh_token"]})
    assert refresh.status_code == 401
    relogin = secretary_api.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert relogin.status_code == 401

"""Request rate limits of the secretary API (card 107): per address when anonymous, per user when signed in."""

from __future__ import annotations

from shared.users.models import Role
from tests.conftest import bearer


def test_anonymous_requests_are_limited_per_address_with_headers_and_a_problem_body(secretary_api, settings_env):
    settings_env(API_RATE_LIMIT_ANONYMOUS="3")
    answers = [secretary_api.get("/api/v1/users") for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["X-RateLimit-Limit"] == "3" and int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].json["status"] == 429 and "3 requests a minute" in answers[3].json["detail"]
    other = secretary_api.get("/api/v1/users", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401  # another address has its own count
    assert secretary_api.get("/api/v1/health").status_code == 200  # health checks are never limited


def test_a_signed_in_user_has_her_own_larger_allowance(secretary_api, settings_env, make_user, login):
    ana, bia = make_user(Role.ADMIN), make_user(Role.ADMIN)
    ana_token, bia_token = login(ana)["access_token"], login(bia)["access_token"]
    settings_env(API_RATE_LIMIT_ANONYMOUS="1", API_RATE_LIMIT_PER_USER="2")
    ana_answers = [secretary_api.get("/api/v1/users", headers=bearer(ana_token)).status_code for _ in range(3)]
    assert ana_answers == [200, 200, 429]
    assert secretary_api.get("/api/v1/users", headers=bearer(bia_token)).status_code == 200

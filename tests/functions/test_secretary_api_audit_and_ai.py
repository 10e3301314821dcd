"""Audit logs (card 109) and AI usage stats (cards 091, 095, 147): ADMIN only, filtered, exact."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from shared.assistant.models import LLMInteraction, LLMProvider
from shared.assistant.stats import AIStatsQuery, response_cache_figures
from shared.audit.service import record_audit
from shared.auth import Principal
from shared.cache import get_redis, key
from shared.db import session_scope, utcnow
from shared.users.models import Role
from tests.conftest import bearer

AUDIT_URL = "/api/v1/audit-logs"
STATS_URL = "/api/v1/ai/stats"


def _principal(user, ip="203.0.113.7") -> Principal:
    return Principal(user_id=user.id, role=user.role, jti=uuid.uuid4(), family_id=uuid.uuid4(),
                     expires_at=utcnow(), ip=ip, request_id="req-1")  # fmt: skip


def _audit(actor, action, entity_type, entity_id, *, at: datetime, reason=None) -> None:
    with session_scope() as session:
        entry = record_audit(session, actor, action, entity_type, entity_id, before={"n": 1}, after={"n": 2},
                             reason=reason)  # fmt: skip
        entry.created_at = at


# --- audit logs ---------------------------------------------------------------------------------------------


def test_admin_lists_audit_entries_newest_first_with_every_field(secretary_api, make_user, login):
    admin, ana = make_user(Role.ADMIN), make_user()
    headers = bearer(login(admin)["access_token"])
    _audit(_principal(admin), "template.deleted", "template", "7", at=utcnow() - timedelta(days=3), reason="old")

    renamed = secretary_api.patch(f"/api/v1/users/{ana.id}", json={"full_name": "Ana B"}, headers=headers)
    listed = secretary_api.get(AUDIT_URL, headers=headers)

    assert renamed.status_code == 200
    assert listed.status_code == 200
    assert (listed.json["total"], listed.json["page"], listed.json["pages"]) == (4, 1, 1)
    actions = [item["action"] for item in listed.json["items"]]
    assert actions == ["user.updated", "user.created", "user.created", "template.deleted"]  # make_user audits too
    newest, oldest = listed.json["items"][0], listed.json["items"][-1]
    assert set(newest) == {"id", "user_id", "action", "entity_type", "entity_id", "old_value", "new_value", "reason",
                           "ip_address", "request_id", "created_at"}  # fmt: skip
    assert (newest["action"], newest["entity_type"], newest["entity_id"]) == ("user.updated", "user", str(ana.id))
    assert newest["user_id"] == str(admin.id) and newest["request_id"]
    assert newest["old_value"]["full_name"] == "Test USER" and newest["new_value"]["full_name"] == "Ana B"
    assert isinstance(newest["ip_address"], str)
    assert oldest["action"] == "template.deleted" and oldest["reason"] == "old"
    assert oldest["ip_address"] == "203.0.113.7" and oldest["created_at"].endswith("Z")


def test_audit_filters(secretary_api, make_user, login):
    admin, other = make_user(Role.ADMIN), make_user(Role.ADMIN)
    headers = bearer(login(admin)["access_token"])
    day = datetime(2026, 3, 10, 12, tzinfo=UTC)  # 09:00 in São Paulo
    _audit(_principal(admin), "user.updated", "user", "a", at=day - timedelta(days=2))
    _audit(_principal(other), "user.updated", "user", "b", at=day)
    _audit(_principal(other), "lead.deleted", "lead", "a", at=day + timedelta(days=1))

    def ids(**params):
        response = secretary_api.get(AUDIT_URL, query_string=params, headers=headers)
        assert response.status_code == 200, response.json
        return [(item["action"], item["entity_id"]) for item in response.json["items"]]

    assert ids(user_id=str(other.id)) == [("lead.deleted", "a"), ("user.updated", "b")]
    assert ids(action="user.updated") == [("user.updated", "b"), ("user.updated", "a")]
    assert ids(entity_type="user", entity_id="a") == [("user.updated", "a")]
    assert ids(entity_id="a") == [("lead.deleted", "a"), ("user.updated", "a")]
    assert ids(date_from="2026-03-10", date_to="2026-03-31") == [("lead.deleted", "a"), ("user.updated", "b")]
    assert ids(date_to="2026-03-10") == [("user.updated", "b"), ("user.updated", "a")]  # a bare date_to keeps its day
    assert ids(date_from="2026-03-10T12:00:00Z", date_to="2026-03-11T12:00:00+00:00") == [("user.updated", "b")]
    assert ids(date_from="2026-03-10T09:00:01", date_to="2026-03-31") == [("lead.deleted", "a")]  # clinic time
    assert ids(action="user.updated", limit=1, page=2) == [("user.updated", "a")]
    assert ids(action="nothing") == []


def test_bad_audit_filters_are_422(secretary_api, make_user, login):
    headers = bearer(login(make_user(Role.ADMIN))["access_token"])
    for params, field in [
        ({"user_id": "ana"}, "user_id"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "0001-01-01T00:00:00+05:00"}, "date_from"),
        ({"entity_id": "x" * 65}, "entity_id"),
        ({"action": "a\x00b"}, "action"),
    ]:
        response = secretary_api.get(AUDIT_URL, query_string=params, headers=headers)
        assert response.status_code == 422, (params, response.json)
        assert [error["field"] for error in response.json["errors"]] == [field]


def test_audit_logs_are_for_admins_only(secretary_api, make_user, login):
    user = make_user()
    _audit(_principal(user), "user.updated", "user", "a", at=utcnow())

    assert secretary_api.get(AUDIT_URL, headers=bearer(login(user)["access_token"])).status_code == 403
    assert secretary_api.get(AUDIT_URL).status_code == 401


# --- AI stats -----------------------------------------------------------------------------------------------

# (provider, model, prompt version, prompt tokens, completion tokens, cost, latency, error)
CALLS = [
    (LLMProvider.GEMINI, "gemini-2.5-flash", "v1", 100, 20, "0.000080", 100, None),
    (LLMProvider.GEMINI, "gemini-2.5-flash", "v1", 200, 40, "0.000160", 200, None),
    (LLMProvider.GEMINI, "gemini-2.5-flash", "v2", 300, 60, "0.000240", 300, "timeout"),
    (LLMProvider.OFFLINE, "offline", "v2", 10, 5, "0", 400, None),
    (LLMProvider.OFFLINE, "offline", "v1", 0, 0, "0", 1000, None),
]


def _record_calls(calls, at: datetime) -> None:
    with session_scope() as session:
        session.add_all(
            LLMInteraction(
                provider=provider,
                model_name=model,
                prompt_version=version,
                prompt_tokens=pt,
                completion_tokens=ct,
                total_tokens=pt + ct,
                cost_usd=Decimal(cost),
                latency_ms=latency,
                error=error,
                created_at=at,
            )
            for provider, model, version, pt, ct, cost, latency, error in calls
        )


def _figures(n, errors, pt, ct, cost, avg, p95):
    return {"interactions": n, "errors": errors, "prompt_tokens": pt, "completion_tokens": ct,
            "total_tokens": pt + ct, "cost_usd": cost, "avg_latency_ms": avg, "p95_latency_ms": p95}  # fmt: skip


def test_ai_stats_totals_and_breakdowns_are_exact(secretary_api, make_user, login):
    _record_calls(CALLS, at=utcnow() - timedelta(days=1))
    _record_calls([(LLMProvider.GEMINI, "gemini-2.5-pro", "v0", 1, 1, "1", 5, "x")], at=utcnow() - timedelta(days=40))
    get_redis().hset(key("response-cache", "stats"), mapping={"hits": 3, "misses": 1})

    response = secretary_api.get(STATS_URL, headers=bearer(login(make_user(Role.ADMIN))["access_token"]))

    assert response.status_code == 200, response.json
    body = response.json
    period = datetime.fromisoformat(body["date_to"]) - datetime.fromisoformat(body["date_from"])
    assert period == timedelta(days=30)
    # p95 = percentile_cont(0.95): position 0.95 * (n - 1) between the sorted latencies, interpolated.
    # all: [100, 200, 300, 400, 1000] -> 3.8 -> 400 + 0.8 * 600 = 880
    assert body["totals"] == _figures(5, 1, 610, 125, "0.000480", 400.0, 880.0)
    assert body["by_prompt_version"] == [
        # v1: [100, 200, 1000] -> 1.9 -> 200 + 0.9 * 800 = 920; mean 1300 / 3 = 433.3
        {"prompt_version": "v1", **_figures(3, 0, 300, 60, "0.000240", 433.3, 920.0)},
        # v2: [300, 400] -> 0.95 -> 300 + 0.95 * 100 = 395
        {"prompt_version": "v2", **_figures(2, 1, 310, 65, "0.000240", 350.0, 395.0)},
    ]
    assert body["by_provider"] == [
        # [100, 200, 300] -> 1.9 -> 200 + 0.9 * 100 = 290
        {"provider": "GEMINI", "model": "gemini-2.5-flash", **_figures(3, 1, 600, 120, "0.000480", 200.0, 290.0)},
        # [400, 1000] -> 0.95 -> 400 + 0.95 * 600 = 970
        {"provider": "OFFLINE", "model": "offline", **_figures(2, 0, 10, 5, "0.000000", 700.0, 970.0)},
    ]
    assert body["response_cache"] == {"hits": 3, "misses": 1, "hit_rate": 0.75}


def test_ai_stats_date_range(secretary_api, make_user, login):
    _record_calls(CALLS[:2], at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    _record_calls(CALLS[2:3], at=datetime(2026, 1, 20, 12, tzinfo=UTC))
    headers = bearer(login(make_user(Role.ADMIN))["access_token"])

    def totals(**params):
        response = secretary_api.get(STATS_URL, query_string=params, headers=headers)
        assert response.status_code == 200, response.json
        return response.json

    january = totals(date_from="2026-01-01", date_to="2026-01-31")
    first_half = totals(date_from="2026-01-01", date_to="2026-01-15")
    only_to = totals(date_to="2026-01-15T00:00:00Z")

    assert january["totals"]["interactions"] == 3
    assert january["date_from"] == "2026-01-01T03:00:00Z" and january["date_to"] == "2026-02-01T03:00:00Z"
    assert first_half["totals"]["interactions"] == 2 and first_half["totals"]["errors"] == 0
    assert only_to["date_from"] == "2025-12-16T00:00:00Z" and only_to["totals"]["interactions"] == 2
    bad = secretary_api.get(STATS_URL, query_string={"date_from": "2026-02-01", "date_to": "2026-01-01"},
                            headers=headers)  # fmt: skip
    assert bad.status_code == 422


def test_ai_stats_without_calls_are_zeros(secretary_api, make_user, login):
    response = secretary_api.get(STATS_URL, headers=bearer(login(make_user(Role.ADMIN))["access_token"]))

    assert response.status_code == 200
    assert response.json["totals"] == _figures(0, 0, 0, 0, "0.000000", None, None)
    assert response.json["by_prompt_version"] == response.json["by_provider"] == []
    assert response.json["response_cache"] == {"hits": 0, "misses": 0, "hit_rate": None}


def test_ai_stats_are_for_admins_only(secretary_api, make_user, login):
    assert secretary_api.get(STATS_URL, headers=bearer(login(make_user())["access_token"])).status_code == 403
    assert secretary_api.get(STATS_URL).status_code == 401


def test_redis_away_makes_the_cache_figures_null():
    def unavailable():
        raise redis.ConnectionError("Connection refused")

    assert response_cache_figures(unavailable).model_dump() == {"hits": None, "misses": None, "hit_rate": None}


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2026-01-31", datetime(2026, 2, 1, 3, tzinfo=UTC)),  # a bare end date keeps its day, in clinic time
        ("2026-01-31T10:00:00", datetime(2026, 1, 31, 13, tzinfo=UTC)),  # no offset: clinic time
        ("2026-01-31T10:00:00Z", datetime(2026, 1, 31, 10, tzinfo=UTC)),
    ],
)
def test_how_an_end_date_is_read(backends, value, utc):
    assert AIStatsQuery(date_to=value).date_to == utc

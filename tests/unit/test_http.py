"""`answer` runs a view on functions-framework's own request with everything `serve` would give it."""

import pytest
from flask import Flask

from shared.config import get_settings
from shared.errors import Unauthorized
from shared.http import answer, create_api


def received():
    return {"status": "received"}, 200, {"X-RateLimit-Limit": "60"}


def refused():
    raise Unauthorized("Invalid X-Webhook-Hmac signature")


def broken():
    raise RuntimeError("a bug")


@pytest.fixture
def outer(monkeypatch):
    """A Flask app standing in for functions-framework's, whose one view hands each request to `answer`."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://u@127.0.0.1:9/x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    get_settings.cache_clear()
    inner = create_api(__name__, "answer test", check_json=False)
    views = {view.__name__: view for view in (received, refused, broken)}
    app = Flask("outer")
    app.add_url_rule("/<name>", view_func=lambda name: answer(inner, views[name]), methods=["POST"])
    yield app.test_client()
    get_settings.cache_clear()


def test_a_view_gets_the_request_id_the_api_version_and_its_own_headers(outer):
    response = outer.post("/received", headers={"X-Request-ID": "abc-123"})

    assert response.status_code == 200 and response.json == {"status": "received"}
    assert response.headers["X-Request-ID"] == "abc-123" and response.headers["X-API-Version"] == "1"
    assert response.headers["X-RateLimit-Limit"] == "60"


def test_errors_become_problem_bodies_and_each_request_logs_one_line(outer, caplog):
    refusal, failure = outer.post("/refused"), outer.post("/broken")

    assert refusal.status_code == 401 and refusal.mimetype == "application/problem+json"
    assert refusal.json["detail"] == "Invalid X-Webhook-Hmac signature" and refusal.json["instance"] == "/refused"
    assert refusal.json["request_id"] == refusal.headers["X-Request-ID"]
    assert failure.status_code == 500 and failure.json["type"] == "urn:clinicbot:problem:internal"
    logged = [(record.path, record.status) for record in caplog.records if record.getMessage() == "request"]
    assert logged == [("/refused", 401), ("/broken", 500)]

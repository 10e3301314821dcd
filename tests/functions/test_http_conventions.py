"""Conventions every function shares: problem bodies, request ids, the OpenAPI document."""

import importlib
import re

from openapi_spec_validator import validate
from sqlalchemy import func, select

from shared.db import session_scope
from shared.routing import FUNCTIONS
from shared.users.models import Role, User
from tests.conftest import bearer


def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(secretary_api):
    echoed = secretary_api.get("/api/v1/auth/me", headers={"X-Request-ID": "abc-123"})
    replaced = secretary_api.get("/api/v1/auth/me", headers={"X-Request-ID": "no spaces <allowed>"})

    assert echoed.headers["X-Request-ID"] == "abc-123" and echoed.json["request_id"] == "abc-123"
    assert len(replaced.headers["X-Request-ID"]) == 32
    assert echoed.headers["X-API-Version"] == "1"


def test_malformed_json_is_a_400_problem_and_writes_nothing(secretary_api, make_user, login):
    token = login(make_user(Role.ADMIN))["access_token"]

    response = secretary_api.post("/api/v1/users", data='{"email": "a@example.com",', headers=bearer(token),
                                  content_type="application/json")  # fmt: skip

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"].startswith("Malformed JSON body")
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_unknown_route_and_wrong_method_answer_problems(secretary_api):
    unknown = secretary_api.get("/api/v1/does-not-exist")
    wrong_method = secretary_api.delete("/api/v1/auth/login")

    assert unknown.status_code == 404 and unknown.json["type"] == "urn:clinicbot:problem:not-found"
    assert unknown.json["instance"] == "/api/v1/does-not-exist"
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert wrong_method.mimetype == "application/problem+json"


def test_the_openapi_document_is_valid_and_lists_every_route(secretary_api):
    document = secretary_api.get("/api/v1/openapi.json").json
    docs_rules = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/swagger/<path:filename>"}
    public_apps = [importlib.import_module(f"functions.{f.name}.app").create_app() for f in FUNCTIONS if f.public]
    app_routes = {
        re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for app in public_apps
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.rule not in docs_rules
    }

    validate(document)
    assert document["openapi"] == "3.1.0"
    documented = set(document["paths"])
    assert documented == app_routes
    assert document["paths"]["/api/v1/users"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]


def test_the_docs_page_and_its_assets_are_served_offline(secretary_api):
    page = secretary_api.get("/api/v1/docs")
    script = secretary_api.get("/api/v1/swagger/js/swagger-ui-bundle.js")

    assert page.status_code == 200 and b"swagger-ui" in page.data and b"openapi.json" in page.data
    assert script.status_code == 200 and len(script.data) > 100_000


def _has_example(node, schemas: dict, seen: tuple = ()) -> bool:
    if isinstance(node, dict):
        if "example" in node or "examples" in node:
            return True
        name = node.get("$ref", "").rpartition("/")[2]
        if name:
            return name not in seen and _has_example(schemas.get(name, {}), schemas, (*seen, name))
        return any(_has_example(value, schemas, seen) for value in node.values())
    return isinstance(node, list) and any(_has_example(value, schemas, seen) for value in node)


def test_every_request_body_and_success_answer_of_the_document_shows_an_example(secretary_api):
    document = secretary_api.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    lacking = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body and not _has_example(body, schemas):
                lacking.append(f"{method.upper()} {path} request")
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2") and answer.get("content") and not _has_example(answer["content"], schemas):
                    lacking.append(f"{method.upper()} {path} {status}")
    assert lacking == []

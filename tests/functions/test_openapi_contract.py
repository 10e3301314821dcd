"""schemathesis against the OpenAPI document, through the local gateway, with an ADMIN token (issue 5's acceptance).

Every operation gets generated requests, valid and invalid; no answer may be a 5xx, and every answer must match the
status codes, content types and schemas the document declares. The run is derandomized, so CI sees the same
requests every time; `CONTRACT_EXAMPLES` raises the number of examples per operation for a deeper local run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.gateway import build_gateway
from shared.users.models import Role
from tests.conftest import bearer

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
LOGOUT = ("POST", "/api/v1/auth/logout")  # it revokes the token the run uses: a fresh login follows each call


@pytest.fixture
def contract(settings_env, make_user, login, live_waha):
    # A live stream that opens ends at once (STREAM_MAX_SECONDS).
    settings_env(API_RATE_LIMIT_PER_USER="1000000", API_RATE_LIMIT_ANONYMOUS="1000000",
                 WAHA_WEBHOOK_URL="http://127.0.0.1:8080/api/v1/webhooks/waha", STREAM_MAX_SECONDS="0.5")  # fmt: skip
    admin = make_user(Role.ADMIN)
    # The document covers every public function (the intake's webhook too): the gateway routes as the ingress does.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", build_gateway())
    return schema, admin, login


def test_no_generated_request_gets_a_5xx_or_an_answer_that_breaks_the_document(contract):
    schema, admin, login = contract
    headers = bearer(login(admin)["access_token"])
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:
        is_logout = (operation.method.upper(), operation.path) == LOGOUT

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case) -> None:
            nonlocal headers
            case.call_and_validate(headers=headers, checks=CHECKS)
            if is_logout:  # noqa: B023 (run() is called before the loop moves on)
                headers = bearer(login(admin)["access_token"])

        try:
            run()
        except BaseException as failure:  # one operation's failures must not hide the others' (a FailureGroup)
            if isinstance(failure, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert failures == [], "\n\n".join(failures)

"""Every operation of the OpenAPI document, walked without a token: all answer 401 but the few public ones.

The list of public operations is fixed here; a new route is secured by default (install_auth) and one that is
not fails this walk until it is added to PUBLIC on purpose.
"""

from __future__ import annotations

import re
import uuid

PUBLIC = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("get", "/api/v1/health"),
    ("post", "/api/v1/webhooks/waha"),  # HMAC instead of a token
    ("post", "/api/v1/feedback"),  # a signed single-use token in the body instead
    ("get", "/api/v1/feedback/form"),  # the page that posts it
}
PARAMETER = re.compile(r"\{([^}]+)\}")


def operations(document: dict) -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def concrete(path: str) -> str:
    return PARAMETER.sub(lambda m: "default" if m.group(1) in {"name", "session"} else str(uuid.uuid4()), path)


def test_every_operation_but_the_public_ones_needs_a_token(gateway, settings_env):
    # More operations than the anonymous rate limit allows a minute: the walk is about tokens, not that limit.
    settings_env(API_RATE_LIMIT_ANONYMOUS="100000")
    document = gateway.get("/api/v1/openapi.json").json
    walked = operations(document)
    assert len(walked) > 20
    for method, path in walked:
        if (method, path) in PUBLIC:
            assert "security" not in document["paths"][path][method], (method, path)
            continue
        assert document["paths"][path][method].get("security") == [{"bearerAuth": []}], (method, path)
        answer = gateway.open(concrete(path), method=method.upper(), json={})
        assert answer.status_code == 401, (method, path, answer.status_code)
        assert answer.json["status"] == 401

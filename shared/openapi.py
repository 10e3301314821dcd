"""One OpenAPI 3.1 document for the whole public URL space, merged from every public function's app."""

from __future__ import annotations

import importlib
from typing import Any

from shared.http import API_VERSION, BEARER_SCHEME
from shared.routing import FUNCTIONS, owner_of

DESCRIPTION = """clinicbot's HTTP API for secretaries and clinic owners.

Authentication: `POST /api/v1/auth/login` returns a JWT; send it as `Authorization: Bearer <token>`.
Errors: every error answers `application/problem+json` (RFC 9457).
Versioning: every path starts with `/api/v1` and every response carries `X-API-Version`. Within v1 we only add
fields and routes; a route to be removed is first marked `deprecated` here and answers a `Deprecation` header for
at least 90 days before it goes."""


def build_openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "clinicbot API", "version": API_VERSION, "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": BEARER_SCHEME},
        "tags": [],
    }
    for function in FUNCTIONS:
        if not function.public:
            continue
        spec = importlib.import_module(f"functions.{function.name}.app").create_app().api_doc
        for path, item in spec.get("paths", {}).items():
            if owner_of(path) is function:
                document["paths"][path] = item
        document["components"]["schemas"].update(spec.get("components", {}).get("schemas", {}))
        document["tags"].extend(tag for tag in spec.get("tags", []) if tag not in document["tags"])
    return document

"""WAHA's OpenAPI spec (`shared/waha/openapi.json`, beside the repo) as a test oracle.

Requests are validated by openapi-core (path, method, parameters, security, body); JSON instances (webhook
payloads, response bodies) by openapi-schema-validator's OAS 3.1 validator against the spec's schemas. The spec
needs three repairs first (`repair_spec`). Load it once per run with `load_waha_spec()` (or the `waha_spec`
fixture in this folder's conftest.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_schema_validator import OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.waha_reference import SPEC_PATH

SPEC_URI = "urn:waha-openapi"
SPEC_LOADS: list[Path] = []  # one entry per load: the session fixture must load the spec once


class SpecViolation(AssertionError):
    pass


def repair_spec(document: dict[str, Any]) -> dict[str, Any]:
    """Fix what WAHA's generated spec gets wrong, so that requests WAHA really accepts validate."""
    schemas = document["components"]["schemas"]
    # Webhook `events` are strings ("message", "session.status"); the spec says objects.
    schemas["WebhookConfig"]["properties"]["events"]["items"] = {"type": "string"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("required"), bool):  # OAS 3.0-style `required: true` on a property
                del node["required"]
            if node.get("type") == "object" and isinstance(node.get("default"), str):  # voice/video mimetype
                node["type"] = "string"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas)
    return document


def pointer(*tokens: str) -> str:
    """A JSON pointer (`#/paths/~1api~1sendText/post`) from its unescaped tokens."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


class OpenAPIRequest:
    """openapi-core's Request protocol over a plain method, URL, headers and body."""

    def __init__(self, method: str, url: str | httpx.URL, headers: Headers, body: bytes | None) -> None:
        url = httpx.URL(url)
        port = url.port or {"http": 80, "https": 443}[url.scheme]  # the spec's server is {protocol}://{host}:{port}
        self.host_url = f"{url.scheme}://{url.host}:{port}"
        self.path = url.path
        self.method = method.lower()
        self.body = body or None
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(url.params.multi_items())),
            header=headers,
            cookie=ImmutableMultiDict(),
        )
        self.content_type = self.parameters.header.get("content-type", "").lower()


class WahaSpec:
    """Validation of requests and JSON instances against WAHA's (repaired) spec."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.openapi = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
        self.paths = APICallPathFinder(self.openapi.spec)
        self.registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))

    def validate_request(
        self,
        method: str,
        url: str | httpx.URL,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> str:
        """The operationId of a request the spec accepts; SpecViolation otherwise."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        request = OpenAPIRequest(method, url, Headers(list(pairs)), body)
        try:
            found = self.paths.find(request.method, request.host_url + request.path)
        except PathError as exc:
            raise SpecViolation(f"{method.upper()} {request.path} is not in the spec ({exc})") from exc
        where = f"{method.upper()} {found.path.parts[-1]}"
        try:
            self.openapi.validate_request(request)
        except OpenAPIError as exc:
            details = [str(exc)] + [error.message for error in getattr(exc.__cause__, "schema_errors", ())]
            raise SpecViolation(f"{where}: {'; '.join(details)}") from exc
        return found.operation["operationId"]

    def validate(self, request: httpx.Request) -> str:
        """`validate_request` for an httpx.Request."""
        return self.validate_request(request.method, request.url, request.headers.multi_items(), request.content)

    def check(self, location: str, instance: Any, what: str | None = None) -> None:
        """Validate `instance` against the schema at a JSON pointer into the spec (`/components/schemas/X`)."""
        validator = OAS31Validator({"$ref": SPEC_URI + "#" + location}, registry=self.registry)
        errors = [
            f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(instance)
        ]
        if errors:
            raise SpecViolation(f"{what or location}: {'; '.join(errors)}")

    def check_schema(self, name: str, instance: Any) -> None:
        """Validate `instance` against a component schema, e.g. `check_schema("WAHAWebhookMessage", body)`."""
        if name not in self.document["components"]["schemas"]:
            raise KeyError(f"no component schema {name!r} in WAHA's spec")
        self.check(pointer("components", "schemas", name), instance, name)

    def operation(self, operation_id: str) -> tuple[str, str]:
        """The (path template, method) of an operationId."""
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    return template, method
        raise KeyError(f"no operation {operation_id!r} in WAHA's spec")

    def check_response(self, operation_id: str, status: int, body: Any) -> bool:
        """Validate a JSON response body; False when the spec declares no JSON body for that status."""
        template, method = self.operation(operation_id)
        response = self.document["paths"][template][method]["responses"][str(status)]
        if "application/json" not in response.get("content", {}):
            return False
        location = pointer("paths", template, method, "responses", str(status), "content", "application/json")
        self.check(location + "/schema", body, f"{operation_id} {status}")
        return True


@functools.cache
def load_waha_spec() -> WahaSpec:
    """The repaired spec, loaded once per process (FileNotFoundError when it is not beside the repo)."""
    SPEC_LOADS.append(SPEC_PATH)
    return WahaSpec(repair_spec(json.loads(SPEC_PATH.read_text())))

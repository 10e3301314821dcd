"""HTTP conventions shared by every function.

- One error body everywhere: RFC 9457 problem+json (`type`, `title`, `status`, `detail`, and `errors` for fields).
- `X-Request-ID`: taken from the caller when it looks sane, otherwise made; logged and returned.
- Each function builds its routes on an OpenAPI (flask-openapi3) app from `create_api`, and its
  functions-framework entry point hands the request to that app with `serve`.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, g, request
from flask_openapi3 import Info, OpenAPI
from flask_openapi3.models.schema import Schema as OpenAPISchema
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.config import get_settings
from shared.errors import AppError, BadRequest, FieldError
from shared.logging import configure_logging, request_id_var

API_PREFIX = "/api/v1"
API_VERSION = "1"
PROBLEM_MIMETYPE = "application/problem+json"
BEARER_SCHEME = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
SECURED: list[dict[str, list[str]]] = [{"bearerAuth": []}]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("clinicbot.http")


class FieldErrorOut(BaseModel):
    field: str = Field(examples=["email"])
    message: str = Field(examples=["value is not a valid email address"])


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str = Field(examples=["urn:clinicbot:problem:validation"])
    title: str = Field(examples=["Validation Failed"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["Invalid fields: email"])
    instance: str | None = Field(default=None, examples=["/api/v1/auth/login"])
    request_id: str | None = None
    errors: list[FieldErrorOut] | None = None


def problem_response(
    status: int,
    title: str,
    detail: str,
    slug: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:clinicbot:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": request_id_var.get(),
    }
    if errors is not None:
        body["errors"] = [error.as_dict() for error in errors]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIMETYPE)
    response.headers.update(headers or {})
    return response


def field_errors_from(exc: ValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        errors.append(FieldError(field=field, message=error["msg"]))
    return errors


def _validation_problem(exc: ValidationError) -> Response:
    errors = field_errors_from(exc)
    names = ", ".join(error.field for error in errors)
    return problem_response(
        422, "Validation Failed", f"Invalid fields: {names}", "validation", errors=errors, instance=request.path
    )


def _app_error(exc: AppError) -> Response:
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        exc.slug,
        errors=getattr(exc, "errors", None),
        headers=exc.headers,
        instance=request.path,
    )


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description or exc.name
    if status == 404:
        detail = f"No route for {request.method} {request.path}"
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
    slug = exc.name.lower().replace(" ", "-")
    return problem_response(status, exc.name, detail, slug, headers=headers, instance=request.path)


def _database_error(exc: DBAPIError) -> Response:
    # A lost or refused connection is the database being down: 503 tells callers (WAHA, Cloud Tasks) to
    # retry. Any other database error is a bug and stays a 500.
    if not (isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated):
        return _unexpected_error(exc)
    log.error("database unavailable: %s", type(exc.orig).__name__, extra={"path": request.path})
    return problem_response(503, "Service Unavailable", "The database is unavailable; retry later.", "unavailable",
                            headers={"Retry-After": "5"}, instance=request.path)  # fmt: skip


def _unexpected_error(exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.path})
    return problem_response(
        500,
        "Internal Server Error",
        "An unexpected error occurred; it has been logged.",
        "internal",
        instance=request.path,
    )


def _start_request() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.request_id = request_id
    g.started = time.perf_counter()
    request_id_var.set(request_id)


def _refuse_malformed_json() -> None:
    if request.method in ("POST", "PUT", "PATCH") and request.is_json and request.content_length:
        try:
            json.loads(request.get_data(cache=True))
        except ValueError as exc:
            raise BadRequest(f"Malformed JSON body: {exc}") from None


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers["X-API-Version"] = API_VERSION
    elapsed_ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
    log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": elapsed_ms,
        },
    )
    return response


# An OpenAPI 3.1 schema is JSON Schema, where `examples` belongs; flask-openapi3's model of it names only `example`
# and silently dropped every field's examples from the document. Keep the keys it does not name.
OpenAPISchema.model_config["extra"] = "allow"
OpenAPISchema.model_rebuild(force=True)


class ProblemDocumentingAPI(OpenAPI):
    """Documents error answers as what they are on the wire: `application/problem+json`, not `application/json`."""

    def generate_spec_json(self) -> None:
        super().generate_spec_json()
        for path_item in self.spec_json.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in (
                    (operation.get("responses") or {}).items() if isinstance(operation, dict) else ()
                ):
                    content = response.get("content") or {}
                    if str(status)[0] in "45" and "application/json" in content:
                        content[PROBLEM_MIMETYPE] = content.pop("application/json")


def create_api(import_name: str, title: str, *, check_json: bool = True) -> OpenAPI:
    """An OpenAPI app with clinicbot's error bodies, request ids, logging and JWT security scheme.

    `check_json=False` leaves malformed JSON to the routes (the webhook intake validates the raw bytes
    itself and answers 422 for any body it cannot use).
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.secret_values)
    app = ProblemDocumentingAPI(
        import_name,
        info=Info(title=title, version=API_VERSION),
        security_schemes=BEARER_SCHEME,
        validation_error_status=422,
        validation_error_model=Problem,
        validation_error_callback=_validation_problem,
        doc_ui=False,
    )
    app.json.sort_keys = False
    app.before_request(_start_request)
    if check_json:
        app.before_request(_refuse_malformed_json)
    app.after_request(_finish_request)
    app.register_error_handler(AppError, _app_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def serve(app: Flask, outer_request: Any) -> Response:
    """Run a function's app on the request functions-framework handed us (streaming bodies stay streamed)."""
    return Response.from_app(app.wsgi_app, outer_request.environ)


def answer(app: Flask, view: Callable[[], Any]) -> Response:
    """Run one of `app`'s views on functions-framework's own request, without a second Flask dispatch.

    For a hot route only (the intake's webhook): `serve` costs a second request context, URL match and
    response copy, 0.08 ms of CPU a request, a twentieth of the intake's. The view gets what `serve` would
    give it: the app's request hooks (request id, log line) and error handlers (problem bodies), around the
    same `request`. Blueprint hooks and flask-openapi3's request models are not run: the view needs neither.
    """
    try:
        response = None
        for hook in app.before_request_funcs.get(None, ()):
            returned = hook()
            if returned is not None:
                response = app.make_response(returned)
                break
        if response is None:
            response = app.make_response(view())
    except Exception as exc:
        response = app.make_response(app.handle_user_exception(exc))
    for hook in reversed(app.after_request_funcs.get(None, ())):
        response = hook(response)
    return response


def client_ip() -> str | None:
    """The caller's address; behind the production ingress, the first hop of X-Forwarded-For."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or request.remote_addr


def error_responses(*statuses: int) -> dict[int, type[BaseModel]]:
    """OpenAPI `responses` entries for the given error statuses, all with the problem body."""
    return {status: Problem for status in statuses}

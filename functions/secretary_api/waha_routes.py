"""/api/v1/waha/sessions: pairing, status, restart and webhook set-up of WAHA sessions (ADMIN by default).

A session is configured with `PUT /waha/sessions/{name}` rather than `POST /waha/sessions`: the call creates the
session when WAHA lacks it and otherwise updates it, so repeating it is harmless and the name stays in the path
like on every other route here. WAHA's failures become problems in one place, `translate_waha_error`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Response, current_app
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, RootModel

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.errors import AppError, BadGateway, NotFound, ServiceUnavailable
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users.permissions import Permission
from shared.whatsapp import admin
from shared.whatsapp.errors import WahaAuthError, WahaError, WahaNotFound, WahaRejected, WahaUnreachable
from shared.whatsapp.models import SessionStatus

# WAHA restarts in seconds; asking sooner would only meet the same failure.
WAHA_RETRY_AFTER_SECONDS = 10
# A QR code is valid for seconds and pairs whichever phone scans it: no cache or proxy should keep one.
NO_STORE = {"Cache-Control": "no-store"}

api = APIBlueprint(
    "waha", __name__, url_prefix=f"{API_PREFIX}/waha/sessions", abp_tags=[Tag(name="waha")], abp_security=SECURED
)


class SessionPath(BaseModel):
    name: str = Field(pattern=admin.SESSION_NAME_PATTERN, description="the WAHA session, e.g. default")


class QrQuery(BaseModel):
    format: admin.QrFormat = Field(
        default="png", description="png: the image itself; base64: {mimetype, data}; raw: {value}, to draw it"
    )


class QrBase64Out(BaseModel):
    mimetype: str = Field(examples=["image/png"])
    data: str = Field(description="the PNG, base64-encoded")


class QrRawOut(BaseModel):
    value: str = Field(description="the text the QR code encodes", examples=["2@AbC...,XyZ...,..."])


class QrOut(RootModel[QrBase64Out | QrRawOut]):
    """The pairing QR code: a PNG by default, JSON with `format=base64` or `format=raw`."""

    model_config = ConfigDict(
        openapi_extra={"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}
    )


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str = Field(examples=["default"])
    status: SessionStatus = Field(description="as WAHA reports it now")
    phone: str | None = Field(description="the clinic's number (digits), once paired", examples=["5511940000000"])
    stored_status: SessionStatus | None = Field(description="the last status our database recorded")
    stored_at: datetime | None = Field(description="when our database last heard of the session")
    webhook_url: str | None = Field(description="the intake URL we last configured on the session")


def _session_out(state: admin.SessionState) -> dict[str, Any]:
    return SessionOut.model_validate(state).model_dump(mode="json")


@api.get("/<name>/qr", responses={200: QrOut, **error_responses(400, 401, 403, 404, 409, 422, 502, 503)})
@require_permission(Permission.MANAGE_WHATSAPP)
def get_session_qr(path: SessionPath, query: QrQuery):
    """The QR code to pair the clinic's phone. 400 once the session is WORKING; 409 while it is in another state."""
    with admin.connect_waha(path.name) as waha:
        qr = admin.fetch_pairing_qr(waha, query.format)
    if isinstance(qr, bytes):
        return Response(qr, mimetype="image/png", headers=NO_STORE)
    return qr, 200, NO_STORE


@api.get("/<name>", responses={200: SessionOut, **error_responses(401, 403, 404, 422, 502, 503)})
@require_permission(Permission.MANAGE_WHATSAPP)
def get_session(path: SessionPath):
    """The session's status from WAHA, with the last status our database recorded."""
    with admin.connect_waha(path.name) as waha, session_scope() as session:
        return _session_out(admin.describe_session(session, waha))


@api.post("/<name>/restart", responses={200: SessionOut, **error_responses(401, 403, 404, 422, 502, 503)})
@require_permission(Permission.MANAGE_WHATSAPP)
def restart_session(path: SessionPath):
    """Stop and start the session (audited). A paired session comes back WORKING; otherwise it asks for a QR scan."""
    with admin.connect_waha(path.name) as waha, session_scope() as session:
        return _session_out(admin.restart_session(session, waha, current_principal()))


@api.put("/<name>", responses={200: SessionOut, 201: SessionOut, **error_responses(400, 401, 403, 422, 502, 503)})
@require_permission(Permission.MANAGE_WHATSAPP)
def configure_session(path: SessionPath):
    """Create (201) or update (200) the session so that it sends its events to our intake (audited).

    The webhook goes to WAHA_WEBHOOK_URL, signed with WAHA_WEBHOOK_HMAC_KEY when that is set; the rest of the
    session's config is kept. A stopped session is started. 400 when WAHA_WEBHOOK_URL is not configured.
    """
    with admin.connect_waha(path.name) as waha, session_scope() as session:
        state, created = admin.configure_session(session, waha, current_principal())
    return _session_out(state), 201 if created else 200


def translate_waha_error(exc: WahaError) -> AppError:
    """The problem an admin sees when WAHA fails us."""
    if isinstance(exc, WahaNotFound):
        return NotFound(f"WAHA does not know this session ({exc.method} {exc.path} answered 404)")
    if isinstance(exc, WahaUnreachable):
        return ServiceUnavailable("WAHA is unreachable; retry later", headers=_retry_after())
    if isinstance(exc, WahaAuthError):
        return BadGateway("WAHA refused our API key (check WAHA_API_KEY)")
    if isinstance(exc, WahaRejected):
        return BadGateway(f"WAHA rejected the request (HTTP {exc.status}): {_waha_message(exc.body)}")
    if exc.status is not None and exc.status >= 500:
        return ServiceUnavailable(f"WAHA failed (HTTP {exc.status}); retry later", headers=_retry_after())
    return BadGateway(f"WAHA call failed: {exc}")


@api.errorhandler(WahaError)
def answer_waha_error(exc: WahaError) -> Response:
    # Handed back to the app's AppError handler so that the problem body has the one shape every error has.
    return current_app.handle_user_exception(translate_waha_error(exc))


def _retry_after() -> dict[str, str]:
    return {"Retry-After": str(WAHA_RETRY_AFTER_SECONDS)}


def _waha_message(body: str) -> str:
    """WAHA's own words from its error body (NestJS `{"message": ...}` or WAHA's `{"error": ...}`)."""
    try:
        parsed = json.loads(body)
    except ValueError:  # not JSON, or cut short by the client's excerpt
        return body.strip() or "no message"
    message = (parsed.get("message") or parsed.get("error")) if isinstance(parsed, dict) else parsed
    if isinstance(message, list):
        return "; ".join(str(part) for part in message)
    return str(message or body)

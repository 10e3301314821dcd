"""The emulator's WSGI app: WAHA's API behind `X-Api-Key`, the control routes and the phone page without."""

from __future__ import annotations

import hmac
import logging
from http import HTTPStatus

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from local.waha_emulator.control_routes import build_control_routes
from local.waha_emulator.emulator import Emulator
from local.waha_emulator.message_routes import build_message_routes
from local.waha_emulator.session_routes import build_session_routes
from local.waha_emulator.sessions import SessionError

logger = logging.getLogger(__name__)

# Reachable without the key: WAHA's own /ping, and everything that is the emulator's rather than WAHA's.
_PUBLIC_PATHS = ("/", "/ping")
_PUBLIC_PREFIX = "/_emulator/"


def create_app(emulator: Emulator, api_key: str | None) -> Flask:
    app = Flask("waha_emulator")
    app.json.sort_keys = False  # keep WAHA's key order
    app.json.ensure_ascii = False

    @app.before_request
    def require_api_key() -> Response | None:
        if api_key is None or request.path in _PUBLIC_PATHS or request.path.startswith(_PUBLIC_PREFIX):
            return None
        supplied = request.headers.get("X-Api-Key", "")
        if hmac.compare_digest(supplied.encode(), api_key.encode()):
            return None
        return build_error(401, "Unauthorized")

    @app.errorhandler(SessionError)
    def answer_session_error(error: SessionError) -> Response:
        return build_error(error.status, error.message)

    @app.errorhandler(HTTPException)
    def answer_http_error(error: HTTPException) -> Response:
        # NestJS answers a path it has no route for with 404 whatever the method, never 405.
        status = 404 if error.code in (404, 405) else error.code or 500
        return build_error(status, f"Cannot {request.method} {request.path}")

    @app.errorhandler(Exception)
    def answer_bug(error: Exception) -> Response:
        logger.exception("%s %s failed", request.method, request.path)
        return build_error(500, "Internal server error (see the emulator's log)")

    app.register_blueprint(build_session_routes(emulator))
    app.register_blueprint(build_message_routes(emulator))
    app.register_blueprint(build_control_routes(emulator))
    return app


def build_error(status: int, message: str | list | dict) -> Response:
    """NestJS's error body, which WAHA answers with; WAHA's own error objects go out as they are."""
    body = message if isinstance(message, dict) else {
        "message": message, "error": HTTPStatus(status).phrase, "statusCode": status,
    }  # fmt: skip
    response = jsonify(body)
    response.status_code = status
    return response

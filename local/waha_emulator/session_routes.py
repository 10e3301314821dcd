"""WAHA's session and pairing routes: `/api/sessions...`, `/api/{session}/auth/qr|request-code`."""

from __future__ import annotations

import base64
import secrets

from flask import Blueprint, Response, jsonify, request

from local.waha_emulator.bodies import read_json_object, require_fields, require_session_config
from local.waha_emulator.emulator import Emulator
from local.waha_emulator.qr_png import render_qr_png
from local.waha_emulator.sessions import SCAN_QR_CODE, Session, SessionError

_PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ0123456789"


def build_session_routes(emulator: Emulator) -> Blueprint:
    routes = Blueprint("waha_sessions", __name__)
    registry = emulator.sessions

    @routes.get("/api/sessions")
    def list_sessions() -> Response:
        include_stopped = request.args.get("all", "false").lower() == "true"
        with registry.lock:
            return jsonify([session.describe_info() for session in registry.list(include_stopped)])

    @routes.post("/api/sessions")
    def create_session() -> tuple[Response, int]:
        body = read_json_object()
        require_fields(body, {}, {"name": "string", "start": "boolean", "config": "object"})
        require_session_config(body.get("config"))
        session = registry.create(body.get("name") or "default", body.get("config"), body.get("start", True))
        return _describe(session), 201

    @routes.get("/api/sessions/<name>")
    def get_session(name: str) -> Response:
        with registry.lock:
            return jsonify(registry.get(name).describe_info())

    @routes.put("/api/sessions/<name>")
    def update_session(name: str) -> Response:
        body = read_json_object()
        require_fields(body, {}, {"config": "object"})
        require_session_config(body.get("config"))
        return _describe(registry.update(name, body.get("config")))

    @routes.delete("/api/sessions/<name>")
    def delete_session(name: str) -> Response:
        registry.delete(name)
        return Response(status=200)

    @routes.post("/api/sessions/<name>/<action>")
    def act_on_session(name: str, action: str) -> tuple[Response, int]:
        actions = {"start": registry.start, "stop": registry.stop, "restart": registry.restart}
        actions["logout"] = registry.logout
        if action not in actions:
            raise SessionError(404, f"Cannot POST /api/sessions/{name}/{action}")
        return _describe(actions[action](name)), 201

    @routes.get("/api/sessions/<name>/me")
    def get_me(name: str) -> Response:
        with registry.lock:
            me = registry.get(name).me()
        # WAHA returns null before pairing, which NestJS sends as an empty 200.
        return jsonify(me) if me else Response(status=200)

    @routes.get("/api/<name>/auth/qr")
    def get_qr(name: str) -> Response:
        qr_format = request.args.get("format", "image")
        if qr_format not in ("image", "raw"):
            raise SessionError(400, ["format must be one of the following values: image, raw"])
        with registry.lock:
            session = registry.get(name)
            if session.status != SCAN_QR_CODE:
                message = f"Can get QR code only in SCAN_QR_CODE status. The current status is '{session.status}'"
                raise SessionError(422, message)
            value = session.qr_value or ""
        if qr_format == "raw":
            return jsonify({"value": value})
        png = render_qr_png(value)
        if request.accept_mimetypes.best_match(["image/png", "application/json"]) == "application/json":
            return jsonify({"mimetype": "image/png", "data": base64.b64encode(png).decode("ascii")})
        return Response(png, mimetype="image/png")

    @routes.post("/api/<name>/auth/request-code")
    def request_code(name: str) -> tuple[Response, int]:
        body = read_json_object()
        require_fields(body, {"phoneNumber": "string"}, {"method": "string"})
        with registry.lock:
            session = registry.get(name)
            if session.status != SCAN_QR_CODE:
                message = f"Can request code only in SCAN_QR_CODE status. The current status is '{session.status}'"
                raise SessionError(422, message)
        # WhatsApp shows an 8-character code in two halves; POST /_emulator/sessions/{s}/scan "types" it.
        code = "".join(secrets.choice(_PAIRING_ALPHABET) for _ in range(8))
        return jsonify({"code": f"{code[:4]}-{code[4:]}"}), 201

    def _describe(session: Session) -> Response:
        with registry.lock:
            return jsonify(session.describe())

    return routes

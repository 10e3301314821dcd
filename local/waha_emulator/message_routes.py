"""WAHA's sending, contact, lid, media and server routes.

Send bodies carry the session (`"session": "default"` is the spec's default when it is left out). The fault
switches (`/_emulator/faults`) apply to the six message sends only, not to seen/typing/reaction, so that
"fail the next 2 sends" means two replies.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from local.waha_emulator.bodies import read_json_object, require_fields, require_file
from local.waha_emulator.emulator import Emulator
from local.waha_emulator.payloads import build_environment
from local.waha_emulator.sessions import SessionError

DEFAULT_SESSION = "default"  # the spec's default for `session` in a body or query

# endpoint -> (kind kept in the outbox, required fields, optional fields), from the spec's request schemas
_SENDS = {
    "sendText": ("text", {"chatId": "string", "text": "string"}, {"reply_to": "string", "linkPreview": "boolean"}),
    "sendImage": ("image", {"chatId": "string", "file": "object"}, {"caption": "string", "reply_to": "string"}),
    "sendFile": ("file", {"chatId": "string", "file": "object"}, {"caption": "string", "reply_to": "string"}),
    "sendVoice": ("voice", {"chatId": "string", "file": "object", "convert": "boolean"}, {"reply_to": "string"}),
    "sendVideo": (
        "video",
        {"chatId": "string", "file": "object", "convert": "boolean"},
        {"caption": "string", "asNote": "boolean", "reply_to": "string"},
    ),
    "sendLocation": (
        "location",
        {"chatId": "string", "latitude": "number", "longitude": "number", "title": "string"},
        {"reply_to": "string"},
    ),
}
_ACTIONS = {"sendSeen": "seen", "startTyping": "typing.start", "stopTyping": "typing.stop"}


def build_message_routes(emulator: Emulator) -> Blueprint:
    routes = Blueprint("waha_messages", __name__)

    @routes.post("/api/<endpoint>")
    def send(endpoint: str) -> tuple[Response, int] | Response:
        if endpoint in _ACTIONS:
            body = _read_body({"chatId": "string"}, {"messageIds": "array", "messageId": "string"})
            emulator.record_action(_ACTIONS[endpoint], body)
            # sendSeen answers an object; the typing calls answer nothing, as NOWEB does.
            return (jsonify({}), 201) if endpoint == "sendSeen" else Response(status=201)
        if endpoint not in _SENDS:
            raise SessionError(404, f"Cannot POST /api/{endpoint}")
        kind, required, optional = _SENDS[endpoint]
        body = _read_body(required, optional)
        if "file" in body:
            require_file(body["file"], needs_filename=kind == "video" or (kind == "voice" and "data" in body["file"]))
        delay, failing_status = emulator.faults.take()
        if delay:
            time.sleep(delay)
        if failing_status:
            raise SessionError(failing_status, "Emulated failure (see POST /_emulator/faults)")
        return jsonify(emulator.record_send(kind, body)), 201

    @routes.put("/api/reaction")
    def react() -> Response:
        body = _read_body({"messageId": "string", "reaction": "string"}, {})
        return jsonify(emulator.record_reaction(body))

    @routes.get("/api/contacts/check-exists")
    def check_exists() -> Response:
        phone = request.args.get("phone")
        if not phone:
            raise SessionError(400, ["phone should not be empty"])
        return jsonify(emulator.check_exists(request.args.get("session", DEFAULT_SESSION), phone))

    @routes.get("/api/<session>/lids/<path:lid>")
    def find_phone_of_lid(session: str, lid: str) -> Response:
        if lid.startswith("pn/"):
            return jsonify(emulator.find_lid_of_phone(session, lid.removeprefix("pn/")))
        return jsonify(emulator.find_phone_of_lid(session, lid))

    @routes.get("/api/files/<session>/<filename>")
    def download_file(session: str, filename: str) -> Response:
        stored = emulator.media.get(session, filename)
        if stored is None:
            raise SessionError(404, f"Cannot GET /api/files/{session}/{filename}")
        return Response(stored.content, mimetype=stored.mimetype)

    @routes.get("/ping")
    def ping() -> Response:
        return jsonify({"message": "pong"})

    @routes.get("/health")
    def check_health() -> Response:
        return jsonify({"status": "ok", "info": {}, "error": {}, "details": {}})

    @routes.get("/api/version")
    @routes.get("/api/server/version")
    def get_version() -> Response:
        return jsonify(build_environment())

    return routes


def _read_body(required: dict[str, str], optional: dict[str, str]) -> dict:
    body = read_json_object()
    require_fields(body, required, optional | {"session": "string"})
    body.setdefault("session", DEFAULT_SESSION)
    return body

"""The emulator's own routes under `/_emulator/` (no key): play the patient, inspect, break things.

- POST   /_emulator/inbound          a phone sends a message -> 201 {event_id, event_ids, message_id, chatId, ...}
- GET    /_emulator/webhooks         delivery attempts [{event, event_id, request_id, url, attempt, status_code, ...}]
- DELETE /_emulator/webhooks         forget them
- GET    /_emulator/outbound         what the bot sent, oldest first [?chatId=...] (phone and lid spellings match)
- DELETE /_emulator/outbound         forget it (and the actions)
- GET    /_emulator/actions          sendSeen / startTyping / stopTyping calls [?chatId=...]
- POST   /_emulator/faults           {"fail_next": N, "status": 500} / {"delay_ms": M, "count": N}
- GET    /_emulator/faults           what is armed; DELETE clears
- POST   /_emulator/ack              {"message_id": ..., "ack": 3} -> 201 {event_id}: a message.ack (READ by default)
- POST   /_emulator/sessions/{s}/scan|fail   the phone scans the QR code / the session breaks
- POST   /_emulator/contacts         {"phone": ..., "exists": false}: override check-exists for one number
- GET    /  and  /_emulator/phone    the phone page
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, jsonify, request

from local.waha_emulator.bodies import read_json_object, require_fields
from local.waha_emulator.emulator import Emulator, InboundRequest
from local.waha_emulator.payloads import ACK_NAMES, ACK_READ
from local.waha_emulator.sessions import SessionError

_INBOUND_FIELDS = {
    "body": "string",
    "session": "string",
    "media": "object",
    "location": "object",
    "lid": "boolean",
    "fromMe": "boolean",
    "source": "string",
    "pushName": "string",
}


def build_control_routes(emulator: Emulator) -> Blueprint:
    routes = Blueprint("waha_emulator_control", __name__)

    @routes.post("/_emulator/inbound")
    def receive_inbound() -> tuple[Response, int]:
        body = read_json_object()
        require_fields(body, {"from": "string"}, _INBOUND_FIELDS)
        if body.get("media"):
            require_fields(body["media"], {"mimetype": "string", "data": "string"}, {"filename": "string"})
        if body.get("location"):
            require_fields(body["location"], {"latitude": "number", "longitude": "number"}, {"name": "string"})
        if body.get("source", "app") not in ("app", "api"):
            raise SessionError(400, ["source must be one of the following values: app, api"])
        inbound = InboundRequest(
            sender=body["from"], body=body.get("body") or "", session=body.get("session"), media=body.get("media"),
            location=body.get("location"), lid=body.get("lid", False), from_me=body.get("fromMe", False),
            source=body.get("source", "app"), push_name=body.get("pushName", "Paciente"),
        )  # fmt: skip
        return jsonify(emulator.receive_inbound(inbound)), 201

    @routes.get("/_emulator/webhooks")
    def list_deliveries() -> Response:
        return jsonify(emulator.deliveries.list(request.args.get("event")))

    @routes.delete("/_emulator/webhooks")
    def clear_deliveries() -> Response:
        emulator.deliveries.clear()
        return jsonify({})

    @routes.get("/_emulator/outbound")
    def list_outbound() -> Response:
        return jsonify(emulator.outbox.list_messages(_chat_filter(emulator)))

    @routes.delete("/_emulator/outbound")
    def clear_outbound() -> Response:
        emulator.outbox.clear()
        return jsonify({})

    @routes.get("/_emulator/actions")
    def list_actions() -> Response:
        return jsonify(emulator.outbox.list_actions(_chat_filter(emulator)))

    @routes.route("/_emulator/faults", methods=["GET", "POST", "DELETE"])
    def configure_faults() -> Response:
        if request.method == "DELETE":
            emulator.faults.clear()
        if request.method == "POST":
            body = read_json_object()
            fields = {"fail_next": "number", "status": "number", "delay_ms": "number", "count": "number"}
            require_fields(body, {}, fields)
            if not 400 <= body.get("status", 500) <= 599:
                raise SessionError(400, ["status must be an HTTP error status (400-599)"])
            values = {name: None if body.get(name) is None else int(body[name]) for name in fields}
            return jsonify(emulator.faults.configure(**values))
        return jsonify(emulator.faults.describe())

    @routes.post("/_emulator/ack")
    def emit_ack() -> tuple[Response, int]:
        body = read_json_object()
        require_fields(body, {"message_id": "string"}, {"ack": "number"})
        ack = int(body.get("ack", ACK_READ))
        if ack not in ACK_NAMES:
            raise SessionError(400, [f"ack must be one of {sorted(ACK_NAMES)}"])
        return jsonify({"event_id": emulator.emit_ack(body["message_id"], ack)}), 201

    @routes.post("/_emulator/sessions/<name>/scan")
    def scan_qr(name: str) -> Response:
        return _describe(emulator, emulator.sessions.scan(name).name)

    @routes.post("/_emulator/sessions/<name>/fail")
    def fail_session(name: str) -> Response:
        return _describe(emulator, emulator.sessions.fail(name).name)

    @routes.post("/_emulator/contacts")
    def set_number_exists() -> Response:
        body = read_json_object()
        require_fields(body, {"phone": "string", "exists": "boolean"})
        emulator.directory.set_number_exists(body["phone"], body["exists"])
        return jsonify({"phone": body["phone"], "exists": body["exists"]})

    @routes.get("/")
    @routes.get("/_emulator/phone")
    def show_phone() -> Response:
        page = resources.files("local.waha_emulator").joinpath("phone.html").read_bytes()
        return Response(page, mimetype="text/html")

    return routes


def _chat_filter(emulator: Emulator) -> set[str] | None:
    chat_id = request.args.get("chatId")
    return emulator.chat_aliases(chat_id) if chat_id else None


def _describe(emulator: Emulator, name: str) -> Response:
    with emulator.sessions.lock:
        return jsonify(emulator.sessions.get(name).describe())

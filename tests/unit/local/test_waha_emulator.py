"""The WAHA emulator in-process, with a real webhook receiver, checked against WAHA's OpenAPI spec.

Every webhook body and the send/QR/contact answers are validated with jsonschema against the spec's
components, after repairing the generator's slips (`repair_spec`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local.servers import free_port, stop_process
from local.waha_emulator import EmulatorServer, RetryPolicy
from local.waha_emulator.stores import MediaStore
from local.waha_emulator.webhooks import sign_body
from tests.waha_reference import SPEC_PATH

SPEC_URI = "urn:waha-openapi"
API_KEY = "emulator-test-key-7d2"
HMAC_KEY = "emulator-hmac-key-41c"
PATIENT = "5511988887777"
CHAT = f"{PATIENT}@c.us"
KEY = {"X-Api-Key": API_KEY}
SCHEMA_OF_EVENT = {
    "message": "WAHAWebhookMessage",
    "message.any": "WAHAWebhookMessageAny",
    "message.ack": "WAHAWebhookMessageAck",
    "session.status": "WAHAWebhookSessionStatus",
}
FAST_RETRIES = RetryPolicy(attempts=15, delay_seconds=0.02)
HTTP = httpx.Client(timeout=5.0)  # one pool for the module: a client per call costs tens of ms


def repair_spec(node: Any) -> None:
    """Undo the slips of WAHA's generated spec so that what WAHA really sends can validate."""
    if isinstance(node, dict):
        # `event` is a string enum that the generator typed `object`; so are webhook `events` items.
        if node.get("type") == "object" and node.get("enum") and all(isinstance(v, str) for v in node["enum"]):
            del node["type"]
        if node.get("example") == ["message", "session.status"] and node.get("items") == {"type": "object"}:
            node["items"] = {"type": "string"}
        # OAS 3.0 leftovers in a 3.1 document: `nullable: true`, and `required: true` on a property.
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        if isinstance(node.get("required"), bool):
            del node["required"]
        for value in node.values():
            repair_spec(value)
    elif isinstance(node, list):
        for value in node:
            repair_spec(value)


@pytest.fixture(scope="module")
def validate() -> Callable[[Any, str], None]:
    if not SPEC_PATH.exists():
        pytest.skip(f"WAHA's spec is not at {SPEC_PATH}")
    document = json.loads(SPEC_PATH.read_text())
    repair_spec(document["components"])
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))

    def check(instance: Any, schema: str) -> None:
        ref = {"$ref": f"{SPEC_URI}#/components/schemas/{schema}"}
        Draft202012Validator(ref, registry=registry).validate(instance)

    return check


def wait_for(condition: Callable[[], Any], timeout: float = 3.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return result


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, str]
    status: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class WebhookReceiver:
    """Records every POST (raw body and headers); answers 500 to the next `failures[event]` of an event."""

    def __init__(self) -> None:
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._server = make_server("127.0.0.1", free_port(), self._answer, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/waha"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, event: str | None = None, accepted_only: bool = True) -> list[Received]:
        with self._lock:
            requests = list(self._requests)
        wanted = [r for r in requests if event is None or r.json["event"] == event]
        return [r for r in wanted if r.status == 200 or not accepted_only]

    def wait_for_event(self, event: str, match: Callable[[dict], bool]) -> Received:
        found = lambda: next((r for r in self.received(event) if match(r.json)), None)  # noqa: E731
        return wait_for(found, what=f"a {event} webhook")

    @Request.application
    def _answer(self, request: Request) -> Response:
        body = request.get_data()
        with self._lock:
            event = json.loads(body)["event"]
            failing = self.failures.get(event, 0) > 0
            self.failures[event] = self.failures.get(event, 0) - failing
            self._requests.append(Received(body, dict(request.headers), 500 if failing else 200))
        return Response("no" if failing else "ok", status=500 if failing else 200)


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module", autouse=True)
def close_http_pool() -> Iterator[None]:
    yield
    HTTP.close()


@pytest.fixture(scope="module")
def waha(receiver: WebhookReceiver) -> Iterator[EmulatorServer]:
    """A paired emulator whose default session posts every event to `receiver`, signed."""
    server = EmulatorServer(
        "127.0.0.1", free_port(), API_KEY, receiver.url, HMAC_KEY, webhook_events=["*"],
        auto_scan_delay=0.02, boot_delay=0.01, ack_delay=0.02, retries=FAST_RETRIES,
    ).start()  # fmt: skip
    wait_for(lambda: get(server, "/api/sessions/default").json()["status"] == "WORKING", what="WORKING")
    yield server
    server.stop()


@pytest.fixture
def pairing_waha() -> Iterator[EmulatorServer]:
    """An emulator with no session yet and no auto-scan: the test drives pairing."""
    server = EmulatorServer(port=0, api_key=API_KEY, session=None, auto_scan=False, boot_delay=0.01).start()
    yield server
    server.stop()


def get(server: EmulatorServer, path: str, **kwargs: Any) -> httpx.Response:
    return HTTP.get(server.url + path, headers=kwargs.pop("headers", KEY), **kwargs)


def post(server: EmulatorServer, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    return HTTP.post(server.url + path, json=body, headers=kwargs.pop("headers", KEY), **kwargs)


def delete(server: EmulatorServer, path: str) -> httpx.Response:
    return HTTP.delete(server.url + path)


def assert_signed(request: Received) -> None:
    expected = hmac.new(HMAC_KEY.encode(), request.body, hashlib.sha512).hexdigest()
    assert hmac.compare_digest(request.headers["X-Webhook-Hmac"], expected)
    assert request.headers["X-Webhook-Hmac-Algorithm"] == "sha512"
    assert re.fullmatch(r"[0-9a-z]+", request.headers["X-Webhook-Request-Id"])
    assert abs(int(request.headers["X-Webhook-Timestamp"]) - time.time() * 1000) < 10_000


def test_the_api_key_guards_waha_routes_but_not_the_emulators_own(waha: EmulatorServer) -> None:
    for headers in ({}, {"X-Api-Key": "wrong"}):
        response = get(waha, "/api/sessions", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"message": "Unauthorized", "error": "Unauthorized", "statusCode": 401}
    assert get(waha, "/api/sessions").status_code == 200
    assert get(waha, "/_emulator/outbound", headers={}).status_code == 200
    assert get(waha, "/ping", headers={}).json() == {"message": "pong"}
    phone_page = get(waha, "/", headers={})
    assert phone_page.status_code == 200 and 'lang="pt-BR"' in phone_page.text


def test_a_session_walks_the_status_machine_and_announces_every_step(
    pairing_waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    webhook = {"url": receiver.url, "events": ["session.status"], "hmac": {"key": HMAC_KEY}}
    created = post(pairing_waha, "/api/sessions", {"name": "clinica", "config": {"webhooks": [webhook]}})
    assert created.status_code == 201 and created.json()["status"] == "STARTING"
    validate(created.json(), "SessionDTO")
    wait_for(lambda: get(pairing_waha, "/api/sessions/clinica").json()["status"] == "SCAN_QR_CODE")
    assert get(pairing_waha, "/api/sessions/clinica/me").content == b""  # not paired yet: null
    assert post(pairing_waha, "/_emulator/sessions/clinica/scan").json()["status"] == "WORKING"
    assert get(pairing_waha, "/api/sessions/clinica/me").json()["id"].endswith("@c.us")
    assert post(pairing_waha, "/_emulator/sessions/clinica/fail").json()["status"] == "FAILED"
    assert post(pairing_waha, "/api/sessions/clinica/start").status_code == 422  # WAHA: "already started"
    assert post(pairing_waha, "/api/sessions/clinica/restart").status_code == 201
    wait_for(lambda: get(pairing_waha, "/api/sessions/clinica").json()["status"] == "WORKING")  # still paired
    assert post(pairing_waha, "/api/sessions/clinica/stop").json()["status"] == "STOPPED"

    expected = ["STARTING", "SCAN_QR_CODE", "WORKING", "FAILED", "STOPPED", "STARTING", "WORKING", "STOPPED"]
    ours = lambda: [r for r in receiver.received("session.status") if r.json["session"] == "clinica"]  # noqa: E731
    wait_for(lambda: len(ours()) == len(expected), what="every session.status")
    assert [r.json["payload"]["status"] for r in ours()] == expected
    for request in ours():
        assert_signed(request)
        validate(request.json, "WAHAWebhookSessionStatus")
    assert [p["status"] for p in ours()[-1].json["payload"]["statuses"]] == expected


def test_the_qr_code_comes_as_png_base64_or_raw_only_while_scanning(
    pairing_waha: EmulatorServer, validate: Callable
) -> None:
    post(pairing_waha, "/api/sessions", {"name": "default"})
    wait_for(lambda: get(pairing_waha, "/api/sessions/default").json()["status"] == "SCAN_QR_CODE")

    png = get(pairing_waha, "/api/default/auth/qr", params={"format": "image"})
    assert png.headers["Content-Type"] == "image/png"
    width, height = check_png(png.content)
    assert width == height > 100
    as_json = get(pairing_waha, "/api/default/auth/qr", headers=KEY | {"Accept": "application/json"}).json()
    validate(as_json, "Base64File")
    assert as_json["mimetype"] == "image/png" and base64.b64decode(as_json["data"]) == png.content
    raw = get(pairing_waha, "/api/default/auth/qr", params={"format": "raw"}).json()
    validate(raw, "QRCodeValue")
    assert raw["value"].startswith("2@")
    code = post(pairing_waha, "/api/default/auth/request-code", {"phoneNumber": "5511940000000"})
    assert code.status_code == 201 and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code.json()["code"])

    post(pairing_waha, "/_emulator/sessions/default/scan")
    refused = get(pairing_waha, "/api/default/auth/qr")
    assert refused.status_code == 422
    assert refused.json()["message"] == "Can get QR code only in SCAN_QR_CODE status. The current status is 'WORKING'"


def check_png(content: bytes) -> tuple[int, int]:
    """Parse the PNG's chunks, checking every CRC and that the pixels decompress to the right size."""
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    position, chunks = 8, {}
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind, data = content[position + 4 : position + 8], content[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", content[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = data
        position += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 0) and len(zlib.decompress(chunks[b"IDAT"])) == height * (width + 1)
    return width, height


def test_sends_need_a_working_session(pairing_waha: EmulatorServer) -> None:
    post(pairing_waha, "/api/sessions", {"name": "default", "start": False})
    refused = post(pairing_waha, "/api/sendText", {"chatId": CHAT, "text": "Oi", "session": "default"})
    assert refused.status_code == 422
    assert refused.json()["status"] == "STOPPED" and refused.json()["expected"] == ["WORKING"]
    assert post(pairing_waha, "/api/sendText", {"chatId": CHAT, "text": "Oi", "session": "x"}).status_code == 404


def test_an_inbound_message_arrives_as_message_and_message_any_signed_and_valid(
    waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    answer = post(waha, "/_emulator/inbound", {"from": CHAT, "body": "Olá, quero marcar uma consulta"}, headers={})
    assert answer.status_code == 201
    message_id = answer.json()["message_id"]
    assert re.fullmatch(rf"false_{PATIENT}@c\.us_[0-9A-F]{{32}}", message_id)

    events = ("message", "message.any")
    by_event = {e: receiver.wait_for_event(e, lambda b: b["payload"]["id"] == message_id) for e in events}
    assert {r.json["id"] for r in by_event.values()} == set(answer.json()["event_ids"].values())
    for event, request in by_event.items():
        assert_signed(request)
        validate(request.json, SCHEMA_OF_EVENT[event])
        envelope = request.json
        assert re.fullmatch(r"evt_[0-9a-hjkmnp-tv-z]{26}", envelope["id"])
        assert abs(envelope["timestamp"] - time.time() * 1000) < 10_000
        assert (envelope["session"], envelope["engine"], envelope["environment"]["version"]) == (
            "default", "NOWEB", "2026.7.1",
        )  # fmt: skip
        assert envelope["me"] == {"id": "5511940000000@c.us", "pushName": "Clínica Emulada"}
        payload = envelope["payload"]
        assert (payload["from"], payload["fromMe"], payload["source"], payload["to"]) == (
            CHAT, False, "app", "5511940000000@c.us",
        )  # fmt: skip
        assert payload["body"] == "Olá, quero marcar uma consulta" and payload["hasMedia"] is False
        assert abs(payload["timestamp"] - time.time()) < 10  # seconds, unlike the envelope
        assert payload["_data"]["key"]["remoteJid"] == f"{PATIENT}@s.whatsapp.net"
        assert "Olá".encode() in request.body  # raw UTF-8, as JSON.stringify writes it


def test_a_failed_delivery_is_retried_until_the_receiver_accepts_it(
    waha: EmulatorServer, receiver: WebhookReceiver
) -> None:
    receiver.failures["message"] = 2
    message_id = post(waha, "/_emulator/inbound", {"from": CHAT, "body": "retry"}, headers={}).json()["message_id"]
    accepted = receiver.wait_for_event("message", lambda b: b["payload"]["id"] == message_id)

    attempts = [r for r in receiver.received("message", accepted_only=False) if r.body == accepted.body]
    assert [r.status for r in attempts] == [500, 500, 200]
    assert len({r.headers["X-Webhook-Request-Id"] for r in attempts}) == 1  # one delivery, retried
    log = get(waha, "/_emulator/webhooks", params={"event": "message"}, headers={}).json()
    ours = [entry for entry in log if entry["event_id"] == accepted.json["id"]]
    assert [(e["attempt"], e["status_code"], e["delivered"]) for e in ours] == [
        (1, 500, False), (2, 500, False), (3, 200, True),
    ]  # fmt: skip


def test_a_lid_sender_shows_the_phone_only_in_data(
    waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    answer = post(waha, "/_emulator/inbound", {"from": CHAT, "body": "sou lid", "lid": True}, headers={}).json()
    payload = receiver.wait_for_event("message", lambda b: b["payload"]["id"] == answer["message_id"]).json["payload"]

    lid = payload["from"]
    assert lid == answer["chatId"] and re.fullmatch(r"\d{15}@lid", lid)
    assert payload["_data"]["key"]["remoteJidAlt"] == f"{PATIENT}@s.whatsapp.net"
    assert payload["_data"]["key"]["addressingMode"] == "lid"
    assert PATIENT not in json.dumps({k: v for k, v in payload.items() if k != "_data"})
    found = get(waha, f"/api/default/lids/{quote(lid, safe='')}").json()
    assert found == {"lid": lid, "pn": CHAT}
    validate(found, "LidToPhoneNumber")
    assert get(waha, f"/api/default/lids/pn/{PATIENT}").json() == {"lid": lid, "pn": CHAT}
    assert get(waha, "/api/default/lids/123456789012345@lid").json() == {"lid": "123456789012345@lid", "pn": None}


def test_inbound_media_is_downloadable_with_the_key(
    waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    picture = b"\xff\xd8\xff\xe0fake-jpeg-bytes"
    media = {"mimetype": "image/jpeg", "filename": "exame.jpg", "data": base64.b64encode(picture).decode()}
    answer = post(waha, "/_emulator/inbound", {"from": CHAT, "body": "meu exame", "media": media}, headers={}).json()
    request = receiver.wait_for_event("message", lambda b: b["payload"]["id"] == answer["message_id"])
    validate(request.json, "WAHAWebhookMessage")

    payload = request.json["payload"]
    assert payload["hasMedia"] is True and payload["body"] == "meu exame"
    url = payload["media"]["url"]
    assert url == payload["mediaUrl"] == f"{waha.url}/api/files/default/{answer['message_id']}.jpeg"
    assert payload["media"]["mimetype"] == "image/jpeg" and payload["media"]["filename"] == "exame.jpg"
    assert payload["_data"]["message"]["imageMessage"]["caption"] == "meu exame"
    downloaded = HTTP.get(url, headers=KEY)
    assert downloaded.content == picture and downloaded.headers["Content-Type"] == "image/jpeg"
    assert HTTP.get(url).status_code == 401


def test_media_expires_after_its_time_to_live() -> None:
    now = [1000.0]
    store = MediaStore(180, clock=lambda: now[0])
    name = store.put("default", "false_x@c.us_AB", "audio/ogg; codecs=opus", b"voz")
    assert name == "false_x@c.us_AB.oga" and store.get("default", name).content == b"voz"
    now[0] += 180
    assert store.get("default", name) is None


def test_a_sent_text_is_answered_listed_and_acked(
    waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    sent = post(waha, "/api/sendText", {"chatId": CHAT, "text": "Bom dia! Como posso ajudar?", "session": "default"})
    assert sent.status_code == 201
    validate(sent.json(), "WAMessage")
    message_id = sent.json()["id"]
    assert re.fullmatch(rf"true_{PATIENT}@c\.us_3EB0[0-9A-F]{{18}}", message_id)

    listed = get(waha, "/_emulator/outbound", params={"chatId": CHAT}, headers={}).json()
    assert [(m["id"], m["kind"], m["text"]) for m in listed] == [(message_id, "text", "Bom dia! Como posso ajudar?")]
    assert get(waha, "/_emulator/outbound", params={"chatId": "5511900001111@c.us"}, headers={}).json() == []
    echo = receiver.wait_for_event("message.any", lambda b: b["payload"]["id"] == message_id).json
    assert (echo["payload"]["fromMe"], echo["payload"]["source"]) == (True, "api")

    def is_ack(name: str) -> Callable[[dict], bool]:
        return lambda body: (body["payload"]["id"], body["payload"]["ackName"]) == (message_id, name)

    for name in ("SERVER", "DEVICE"):
        validate(receiver.wait_for_event("message.ack", is_ack(name)).json, "WAHAWebhookMessageAck")
    read = post(waha, "/_emulator/ack", {"message_id": message_id, "ack": 3}, headers={})
    assert read.status_code == 201
    receiver.wait_for_event("message.ack", lambda b: b["id"] == read.json()["event_id"] and b["payload"]["ack"] == 3)
    assert delete(waha, "/_emulator/outbound").status_code == 200
    assert get(waha, "/_emulator/outbound", headers={}).json() == []


def test_missing_required_fields_are_refused_with_400(waha: EmulatorServer) -> None:
    refused = post(waha, "/api/sendText", {"chatId": CHAT, "session": "default"})
    assert refused.status_code == 400 and refused.json()["message"] == ["text should not be empty"]
    image = post(waha, "/api/sendImage", {"chatId": CHAT, "file": {"mimetype": "image/png"}, "session": "default"})
    assert image.status_code == 400 and "file must have either url or data" in image.json()["message"]
    video = {"chatId": CHAT, "file": {"mimetype": "video/mp4", "url": "http://x/v.mp4"}, "session": "default"}
    assert post(waha, "/api/sendVideo", video).json()["message"] == ["convert should not be empty"]
    with_convert = post(waha, "/api/sendVideo", video | {"convert": True})  # a video also needs a file name
    assert with_convert.json()["message"] == ["file.filename should not be empty"]


def test_fault_switches_fail_or_slow_the_next_sends(waha: EmulatorServer) -> None:
    delete(waha, "/_emulator/outbound")
    body = {"chatId": CHAT, "text": "tentativa", "session": "default"}
    assert post(waha, "/_emulator/faults", {"fail_next": 2, "status": 500}, headers={}).status_code == 200
    assert [post(waha, "/api/sendText", body).status_code for _ in range(3)] == [500, 500, 201]
    assert len(get(waha, "/_emulator/outbound", headers={}).json()) == 1  # failed sends are not kept

    post(waha, "/_emulator/faults", {"delay_ms": 300, "count": 1}, headers={})
    started = time.monotonic()
    assert post(waha, "/api/sendText", body).status_code == 201
    assert time.monotonic() - started >= 0.3
    post(waha, "/_emulator/faults", {"fail_next": 5}, headers={})
    assert delete(waha, "/_emulator/faults").json()["fail_next"] == 0
    assert post(waha, "/api/sendText", body).status_code == 201


def test_only_the_ninth_digit_spelling_of_a_brazilian_mobile_exists(waha: EmulatorServer, validate: Callable) -> None:
    def check(phone: str) -> dict:
        result = get(waha, "/api/contacts/check-exists", params={"phone": phone, "session": "default"}).json()
        validate(result, "WANumberExistResult")
        return result

    assert check("5511999999999") == {"numberExists": True, "chatId": "5511999999999@c.us"}
    assert check("551199999999") == {"numberExists": False}  # the same mobile without its ninth digit
    assert check("551133334444")["numberExists"] is True  # a landline keeps 8 digits
    post(waha, "/_emulator/contacts", {"phone": "5511977776666", "exists": False}, headers={})
    assert check("5511977776666") == {"numberExists": False}


def test_every_kind_of_emitted_webhook_validates_against_the_spec(
    waha: EmulatorServer, receiver: WebhookReceiver, validate: Callable
) -> None:
    human = post(waha, "/_emulator/inbound", {"from": CHAT, "body": "Aqui é a secretária", "fromMe": True}, headers={})
    place = {"latitude": -23.5614, "longitude": -46.6559, "name": "Clínica"}
    post(waha, "/_emulator/inbound", {"from": CHAT, "location": place}, headers={})
    voice = {"mimetype": "audio/ogg; codecs=opus", "filename": "nota.ogg", "data": base64.b64encode(b"OggS").decode()}
    note = post(waha, "/api/sendVoice", {"chatId": CHAT, "file": voice, "convert": False, "session": "default"})
    takeover = receiver.wait_for_event("message.any", lambda b: b["payload"]["id"] == human.json()["message_id"])
    assert (takeover.json["payload"]["fromMe"], takeover.json["payload"]["source"]) == (True, "app")
    assert not [r for r in receiver.received("message") if r.json["payload"]["id"] == human.json()["message_id"]]
    receiver.wait_for_event("message", lambda b: "location" in b["payload"])
    receiver.wait_for_event("message.ack", lambda b: b["payload"]["id"] == note.json()["id"])

    bodies = [r.json for r in receiver.received()]
    assert {body["event"] for body in bodies} == set(SCHEMA_OF_EVENT)
    for body in bodies:
        validate(body, SCHEMA_OF_EVENT[body["event"]])
    broken = dict(takeover.json, payload={k: v for k, v in takeover.json["payload"].items() if k != "fromMe"})
    with pytest.raises(ValidationError):  # the check has teeth
        validate(broken, "WAHAWebhookMessageAny")


def test_the_command_line_serves_until_terminated() -> None:
    port = free_port()
    command = [sys.executable, "-m", "local.waha_emulator", "--port", str(port), "--api-key", API_KEY]
    process = subprocess.Popen([*command, "--no-auto-scan", "--log-level", "WARNING"], start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{url}/ping"), timeout=15, what="the emulator's /ping")
        sessions = httpx.get(f"{url}/api/sessions", headers=KEY).json()
        assert [s["name"] for s in sessions] == ["default"]
    finally:
        stop_process(process, signal.SIGTERM, timeout=5)
    assert process.returncode == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def test_signatures_match_the_documented_test_vector() -> None:
    body = b'{"event":"message","session":"default","engine":"WEBJS"}'
    assert sign_body("my-secret-key", body) == (
        "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8"
        "097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
    )


def test_retry_delays_follow_the_policy() -> None:
    policy = RetryPolicy().merged_with({"delaySeconds": 1, "policy": "linear"})
    assert (policy.attempts, [policy.delay_before(n) for n in (1, 2, 3)]) == (15, [1, 2, 3])
    assert [RetryPolicy(delay_seconds=2).delay_before(n) for n in (1, 5)] == [2, 2]
    assert 4 <= RetryPolicy(delay_seconds=1, policy="exponential").delay_before(2) <= 4.8


def test_a_malformed_webhook_config_is_refused(waha: EmulatorServer) -> None:
    bad = {"name": "other", "config": {"webhooks": [{"url": "http://x", "events": "message"}]}}
    refused = post(waha, "/api/sessions", bad)
    assert refused.status_code == 400
    assert refused.json()["message"] == ["config.webhooks.0.events must be an array"]
    assert get(waha, "/api/sessions/other").status_code == 404

"""A fake WAHA for httpx.MockTransport: it validates each request against WAHA's spec, then answers as the spec
describes (canned answers below, or ones a test scripts). Files under /api/files (not in the spec) are served from
`media`; any other host is treated as a file server too."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from tests.unit.whatsapp.waha_spec import WahaSpec

BASE_URL = "http://waha.test:3000"
API_KEY = "waha-test-key-5f1c9e"
CHAT = "5511999999999@c.us"
MEDIA_PATH = "/api/files/default/false_5511999999999@c.us_3EB0AA.oga"

SESSION_DTO = {"name": "default", "status": "WORKING", "config": {"webhooks": []}}
ME = {"id": "5511988887777@c.us", "lid": "204060@lid", "pushName": "Clínica Sorriso"}
SESSION_INFO = SESSION_DTO | {"me": ME, "presence": {}, "timestamps": {"activity": 1767225600000}}
SENT_TEXT = {  # GOWS answers with the spec's WAMessage
    "id": "true_5511999999999@c.us_3EB0C767D26A1D1E8D0F",
    "timestamp": 1767225600,
    "from": "5511988887777@c.us",
    "fromMe": True,
    "source": "api",
    "to": CHAT,
    "participant": "",
    "body": "Olá!",
    "hasMedia": False,
    "mediaUrl": "",
    "ack": 1,
    "ackName": "SERVER",
}
SENT_WEBJS = {"id": {"fromMe": True, "remote": CHAT, "id": "3EB0AB", "_serialized": f"true_{CHAT}_3EB0AB"}, "ack": 0}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
# operationId -> (status, JSON body or None for an empty answer), each shaped like the spec's response schema.
ANSWERS: dict[str, tuple[int, Any]] = {
    "SessionsController_create": (201, SESSION_DTO | {"status": "STARTING"}),
    "SessionsController_list": (200, [SESSION_INFO]),
    "SessionsController_get": (200, SESSION_INFO),
    "SessionsController_update": (200, SESSION_DTO),
    "SessionsController_delete": (200, None),
    "SessionsController_start": (201, SESSION_DTO | {"status": "STARTING"}),
    "SessionsController_stop": (201, SESSION_DTO | {"status": "STOPPED"}),
    "SessionsController_restart": (201, SESSION_DTO | {"status": "STARTING"}),
    "SessionsController_logout": (201, SESSION_DTO | {"status": "STOPPED"}),
    "SessionsController_getMe": (200, ME),
    "AuthController_requestCode": (201, {"code": "ABCD-1234"}),
    "ChattingController_sendText": (201, SENT_TEXT),
    "ChattingController_sendImage": (201, SENT_WEBJS),
    "ChattingController_sendFile": (201, SENT_WEBJS),
    "ChattingController_sendVoice": (201, SENT_WEBJS),
    "ChattingController_sendVideo": (201, None),
    "ChattingController_sendLocation": (201, SENT_WEBJS),
    "ChattingController_sendSeen": (201, {}),
    "ChattingController_startTyping": (201, None),
    "ChattingController_stopTyping": (201, None),
    "ChattingController_setReaction": (200, {}),
}


class FakeWaha:
    """A WAHA that validates each request against the spec, then answers as the spec describes."""

    def __init__(self, spec: WahaSpec) -> None:
        self.spec = spec
        self.requests: list[httpx.Request] = []
        self.operations: list[str | None] = []  # operationId per request; None for files (not in the spec)
        self.scripted: dict[str, list[httpx.Response | Exception]] = defaultdict(list)
        self.registered = {"5511999999999"}  # numbers WhatsApp knows
        self.lids = {"204060@lid": "5511988887777@c.us"}
        self.media = {MEDIA_PATH: (b"OggS" + b"\x00" * 60, "audio/ogg")}
        self.sleeps: list[float] = []  # the client's backoff delays land here instead of in time.sleep

    def script(self, operation: str, *answers: httpx.Response | Exception) -> None:
        self.scripted[operation].extend(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != "waha.test" or request.url.path.startswith("/api/files/"):
            self.operations.append(None)
            return self._serve_file(request)
        operation = self.spec.validate(request)
        self.operations.append(operation)
        if self.scripted[operation]:
            answer = self.scripted[operation].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return self._answer(operation, request)

    def _answer(self, operation: str, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if operation == "AuthController_getQR":
            if params["format"] == "raw":
                return httpx.Response(200, json={"value": "2@Xk1cL0g7n6pQ,8gq1ZPr0,Ahk2bWxQ==,1"})
            if request.headers.get("accept") == "application/json":
                return httpx.Response(200, json={"mimetype": "image/png", "data": "iVBORw0KGgo="})
            return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
        if operation == "ContactsController_checkExists":
            phone = params["phone"]
            exists = phone in self.registered
            return httpx.Response(200, json={"numberExists": exists} | ({"chatId": f"{phone}@c.us"} if exists else {}))
        if operation == "LidsController_findPNByLid":
            lid = request.url.path.rsplit("/", 1)[1]
            return httpx.Response(200, json={"lid": lid} | ({"pn": self.lids[lid]} if lid in self.lids else {}))
        status, body = ANSWERS[operation]
        return httpx.Response(status) if body is None else httpx.Response(status, json=body)

    def _serve_file(self, request: httpx.Request) -> httpx.Response:
        if request.url.path not in self.media:
            return httpx.Response(404, json={"statusCode": 404, "message": "File not found"})
        content, content_type = self.media[request.url.path]
        return httpx.Response(200, content=content, headers={"Content-Type": content_type})

"""WahaClient against a fake WAHA (httpx.MockTransport, `fake_waha.py`) that checks every request against WAHA's
OpenAPI spec with openapi-core (`waha_spec.py`; fixtures in conftest.py)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx
import pytest

from shared.config import Settings
from shared.whatsapp.client import WahaClient
from shared.whatsapp.errors import (
    WahaAuthError,
    WahaMediaTooLarge,
    WahaNotFound,
    WahaRejected,
    WahaServerError,
    WahaUnreachable,
)
from shared.whatsapp.payloads import MediaFile, build_webhook_config, extract_message_id
from shared.whatsapp.phone import list_ninth_digit_variants, phone_from_chat_id
from tests.unit.whatsapp.fake_waha import (
    ANSWERS,
    API_KEY,
    BASE_URL,
    CHAT,
    MEDIA_PATH,
    SENT_TEXT,
    SENT_WEBJS,
    SESSION_INFO,
)
from tests.unit.whatsapp.waha_spec import SPEC_LOADS, SpecViolation

KEY = {"X-Api-Key": API_KEY}


def send_text(waha: WahaClient) -> dict[str, Any]:
    return waha.send_text(CHAT, "Olá!")


# Every public method that talks to WAHA -> (a call, the operationId it must hit; None: /api/files, not in the spec).
WEBHOOK = build_webhook_config("https://clinic.example/webhooks/waha", "hmac-key-0123456789abcdef")
MESSAGE_ID = f"false_{CHAT}_3EB0AA"
PHOTO = MediaFile.from_url("https://clinic.example/fachada.jpg", "image/jpeg", "fachada.jpg")
PUBLIC_CALLS = {
    "create_session": (lambda w: w.create_session({"webhooks": [WEBHOOK]}), "SessionsController_create"),
    "get_session": (lambda w: w.get_session(), "SessionsController_get"),
    "list_sessions": (lambda w: w.list_sessions(include_stopped=True), "SessionsController_list"),
    "update_session": (lambda w: w.update_session({"webhooks": [WEBHOOK]}), "SessionsController_update"),
    "start_session": (lambda w: w.start_session(), "SessionsController_start"),
    "stop_session": (lambda w: w.stop_session(), "SessionsController_stop"),
    "restart_session": (lambda w: w.restart_session(), "SessionsController_restart"),
    "logout_session": (lambda w: w.logout_session(), "SessionsController_logout"),
    "delete_session": (lambda w: w.delete_session(), "SessionsController_delete"),
    "get_me": (lambda w: w.get_me(), "SessionsController_getMe"),
    "get_qr_png": (lambda w: w.get_qr_png(), "AuthController_getQR"),
    "get_qr_base64": (lambda w: w.get_qr_base64(), "AuthController_getQR"),
    "get_qr_raw": (lambda w: w.get_qr_raw(), "AuthController_getQR"),
    "request_code": (lambda w: w.request_code("5511988887777"), "AuthController_requestCode"),
    "send_text": (
        lambda w: w.send_text(CHAT, "Olá!", reply_to=MESSAGE_ID, link_preview=False),
        "ChattingController_sendText",
    ),
    "send_image": (lambda w: w.send_image(CHAT, PHOTO, caption="Nossa fachada"), "ChattingController_sendImage"),
    "send_file": (
        lambda w: w.send_file(CHAT, MediaFile.from_bytes(b"%PDF-1.7", "application/pdf", "preparo.pdf")),
        "ChattingController_sendFile",
    ),
    "send_voice": (
        lambda w: w.send_voice(CHAT, MediaFile.from_url("https://clinic.example/a.opus", "audio/ogg; codecs=opus")),
        "ChattingController_sendVoice",
    ),
    "send_video": (
        lambda w: w.send_video(
            CHAT, MediaFile.from_url("https://clinic.example/tour.mp4", "video/mp4"), caption="Tour"
        ),
        "ChattingController_sendVideo",
    ),
    "send_location": (
        lambda w: w.send_location(CHAT, -23.5614, -46.6559, "Clínica"),
        "ChattingController_sendLocation",
    ),
    "send_seen": (lambda w: w.send_seen(CHAT, [MESSAGE_ID]), "ChattingController_sendSeen"),
    "start_typing": (lambda w: w.start_typing(CHAT), "ChattingController_startTyping"),
    "stop_typing": (lambda w: w.stop_typing(CHAT), "ChattingController_stopTyping"),
    "send_reaction": (lambda w: w.send_reaction(MESSAGE_ID, "👍"), "ChattingController_setReaction"),
    "check_exists": (lambda w: w.check_exists("5511999999999"), "ContactsController_checkExists"),
    "phone_for_lid": (lambda w: w.phone_for_lid("204060@lid"), "LidsController_findPNByLid"),
    "download_media": (lambda w: w.download_media(BASE_URL + MEDIA_PATH), None),
}
NOT_CALLING_WAHA = {"from_settings", "close"}


def test_public_calls_cover_every_public_method():
    public = {name for name in dir(WahaClient) if not name.startswith("_")}
    assert public - NOT_CALLING_WAHA == set(PUBLIC_CALLS), "give each new method an entry in PUBLIC_CALLS"


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_public_method_sends_what_the_spec_accepts(name, client, fake, waha_spec):
    call, operation = PUBLIC_CALLS[name]
    call(client)
    assert fake.operations == [operation]  # the fake validated it (or it is the one call outside the spec)
    assert fake.requests[0].headers["X-Api-Key"] == API_KEY
    if operation is None:
        with pytest.raises(SpecViolation, match="not in the spec"):
            waha_spec.validate_request("GET", BASE_URL + MEDIA_PATH, KEY)


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "reason"),
    [
        ("POST", "/api/sendText", {"text": "Olá!", "session": "default"}, KEY, "'chatId' is a required property"),
        ("POST", "/api/sendVoice", {"chatId": CHAT, "session": "default", "file": {"url": "x"}}, KEY, "not valid"),
        ("GET", "/api/default/auth/qr?format=svg", None, KEY, "'svg' is not one of"),  # image or raw only
        ("GET", "/api/sessions/default", None, {}, "Security not found"),  # no key
        ("POST", "/api/default/sendText", {"chatId": CHAT, "text": "Olá!"}, KEY, "not in the spec"),  # no such path
        ("DELETE", "/api/sendText", None, KEY, "not in the spec"),  # no such method
        ("POST", "/api/sendText", None, KEY, "Missing required request body"),
    ],
)
def test_spec_check_refuses_what_waha_would(waha_spec, method, path, body, headers, reason):
    with pytest.raises(SpecViolation, match=re.escape(reason)):
        waha_spec.validate(httpx.Request(method, BASE_URL + path, json=body, headers=headers))


def test_spec_check_takes_raw_requests(waha_spec):
    body = json.dumps({"chatId": CHAT, "text": "Olá!", "session": "default"}).encode()
    operation = waha_spec.validate_request(
        "POST", "http://localhost/api/sendText", KEY | {"content-type": "application/json"}, body
    )
    assert operation == "ChattingController_sendText"  # a URL without a port matches the spec's {host}:{port}
    with pytest.raises(SpecViolation, match="text/plain"):
        waha_spec.validate_request("POST", BASE_URL + "/api/sendText", KEY | {"Content-Type": "text/plain"}, b"Ola!")


def test_schema_check(waha_spec):
    waha_spec.check_schema("WebhookConfig", WEBHOOK)
    with pytest.raises(SpecViolation, match="WebhookConfig: url: 5 is not of type 'string'"):
        waha_spec.check_schema("WebhookConfig", WEBHOOK | {"url": 5})
    with pytest.raises(KeyError):
        waha_spec.check_schema("NoSuchSchema", {})


def test_spec_is_loaded_once_per_session(waha_spec):
    assert len(SPEC_LOADS) == 1


@pytest.mark.parametrize("operation", sorted(op for op, (_, body) in ANSWERS.items() if body is not None))
def test_canned_answers_match_the_spec(waha_spec, operation):
    status, body = ANSWERS[operation]
    # False only for request-code: the spec declares no body, WAHA sends `{"code": ...}`.
    assert waha_spec.check_response(operation, status, body) or operation == "AuthController_requestCode"


def test_no_key_header_when_no_key_is_configured():
    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200, json=SESSION_INFO))
    with WahaClient(BASE_URL, transport=transport) as waha:
        waha.get_session()
    assert "X-Api-Key" not in seen[0].headers


def test_from_settings_uses_the_waha_settings(fake):
    settings = Settings(
        _env_file=None,
        environment="local",
        database_url="postgresql+pg8000://clinicbot@localhost/clinicbot",
        redis_url="redis://localhost:6379/0",
        waha_url=BASE_URL,
        waha_api_key=API_KEY,
        waha_session_name="clinica-centro",
    )
    with WahaClient.from_settings(settings, transport=httpx.MockTransport(fake.handle)) as waha:
        waha.start_typing(CHAT)
    request = fake.requests[0]
    assert (request.url.host, request.headers["X-Api-Key"]) == ("waha.test", API_KEY)
    assert json.loads(request.content)["session"] == "clinica-centro"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, WahaAuthError),
        (403, WahaAuthError),
        (404, WahaNotFound),
        (409, WahaRejected),
        (422, WahaRejected),
        (429, WahaRejected),
        (500, WahaServerError),
        (503, WahaServerError),
    ],
)
def test_each_status_raises_its_error(client, fake, status, error_class):
    body = {"statusCode": status, "message": "chatId must be a string"}
    fake.script("ChattingController_sendText", httpx.Response(status, json=body))
    with pytest.raises(error_class) as caught:
        send_text(client)
    error = caught.value
    assert (error.method, error.path, error.status) == ("POST", "/api/sendText", status)
    assert "chatId must be a string" in error.body
    assert API_KEY not in str(error) + repr(error) + error.body
    assert error.transient == (status in (429, 500, 503))


def test_get_retries_server_errors_then_succeeds(client, fake):
    fake.script("SessionsController_get", httpx.Response(503), httpx.Response(502))
    assert client.get_session()["status"] == "WORKING"
    assert len(fake.requests) == 3
    assert fake.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("read timed out"), httpx.RemoteProtocolError("dropped"), httpx.Response(429)]
)
def test_idempotent_calls_retry_timeouts_drops_and_429(client, fake, failure):
    fake.script("SessionsController_restart", failure)
    assert client.restart_session()["status"] == "STARTING"
    assert len(fake.requests) == 2


def test_get_gives_up_after_the_retries(client, fake):
    fake.script("ContactsController_checkExists", *[httpx.Response(500)] * 4)
    with pytest.raises(WahaServerError):
        client.check_exists("5511999999999")
    assert len(fake.requests) == 4  # the first try and `retries=3`
    assert fake.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (httpx.Response(500), WahaServerError),
        (httpx.Response(429), WahaRejected),
        (httpx.ReadTimeout("read timed out"), WahaUnreachable),
        (httpx.RemoteProtocolError("dropped"), WahaUnreachable),
    ],
)
def test_send_text_is_never_repeated_once_it_may_have_left(client, fake, failure, error_class):
    fake.script("ChattingController_sendText", failure)
    with pytest.raises(error_class):
        send_text(client)
    assert len(fake.requests) == 1
    assert fake.sleeps == []


def test_send_text_is_retried_when_the_connection_was_never_made(client, fake):
    fake.script("ChattingController_sendText", httpx.ConnectError("refused"), httpx.ConnectTimeout("connect timeout"))
    assert extract_message_id(send_text(client)) == SENT_TEXT["id"]
    assert len(fake.requests) == 3


def test_unreachable_after_the_retries_keeps_the_cause(client, fake):
    fake.script("SessionsController_getMe", *[httpx.ConnectError("[Errno 111] Connection refused")] * 4)
    with pytest.raises(WahaUnreachable) as caught:
        client.get_me()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caught.value.path == "/api/sessions/default/me"


def test_failures_log_one_line_each_without_the_key(client, fake, caplog):
    fake.script("SessionsController_get", httpx.Response(500), httpx.Response(401, json={"message": "bad key"}))
    with caplog.at_level(logging.WARNING, logger="shared.whatsapp"), pytest.raises(WahaAuthError):
        client.get_session()
    assert len(caplog.records) == 2
    assert "retry 1/3" in caplog.records[0].getMessage()
    assert "giving up" in caplog.records[1].getMessage()
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    ("phone", "variants"),
    [
        ("5511999999999", ["5511999999999", "551199999999"]),  # SP mobile, with the ninth digit
        ("551199999999", ["551199999999", "5511999999999"]),  # the same, registered before the ninth digit
        ("+55 (21) 98765-4321", ["5521987654321", "552187654321"]),
        ("552133334444", ["552133334444"]),  # landline (starts 2..5): never had a ninth digit
        ("5511951234567", ["5511951234567"]),  # 9 + 5xxx: a new mobile range, no 8-digit past
        ("5501999999999", ["5501999999999"]),  # no area code has a zero
        ("14155552671", ["14155552671"]),  # not Brazil
        ("55119999", ["55119999"]),
    ],
)
def test_ninth_digit_variants(phone, variants):
    assert list_ninth_digit_variants(phone) == variants


def test_phone_from_chat_id():
    assert phone_from_chat_id("5511999999999@c.us") == "5511999999999"
    assert phone_from_chat_id("5511999999999:12@s.whatsapp.net") == "5511999999999"
    assert phone_from_chat_id("204060@lid") is None
    assert phone_from_chat_id(None) is None


def test_check_exists_falls_back_to_the_other_ninth_digit_spelling(client, fake):
    fake.registered = {"551188887777"}  # an old account, still without the ninth digit
    assert client.check_exists("5511988887777") == "551188887777@c.us"
    assert [r.url.params["phone"] for r in fake.requests] == ["5511988887777", "551188887777"]


def test_check_exists_tries_only_the_given_number_when_it_exists(client, fake):
    assert client.check_exists("+55 11 99999-9999") == CHAT
    assert len(fake.requests) == 1


def test_check_exists_is_none_when_no_spelling_exists(client, fake):
    assert client.check_exists("5521987654321") is None
    assert len(fake.requests) == 2


def test_phone_for_lid(client, fake):
    assert client.phone_for_lid("204060@lid") == "5511988887777"
    assert fake.requests[0].url.raw_path == b"/api/default/lids/204060%40lid"
    assert client.phone_for_lid("999999@lid") is None  # WAHA answers without `pn`
    fake.script("LidsController_findPNByLid", httpx.Response(404, json={"message": "Not found"}))
    assert client.phone_for_lid("888888@lid") is None


def test_qr_code_forms(client):
    assert client.get_qr_png().startswith(b"\x89PNG")
    assert client.get_qr_base64() == {"mimetype": "image/png", "data": "iVBORw0KGgo="}
    assert client.get_qr_raw().startswith("2@")


def test_download_media_returns_bytes_and_type_with_the_key(client, fake):
    content, content_type = client.download_media(BASE_URL + MEDIA_PATH, max_bytes=1024)
    assert (content[:4], content_type) == (b"OggS", "audio/ogg")
    assert fake.requests[0].headers["X-Api-Key"] == API_KEY


def test_download_media_never_sends_the_key_to_another_host(client, fake):
    fake.media["/bucket/a.oga"] = (b"OggS", "audio/ogg")
    client.download_media("https://s3.example.com/bucket/a.oga")
    assert "X-Api-Key" not in fake.requests[0].headers


@pytest.mark.parametrize("declare_length", [True, False])
def test_download_media_refuses_more_than_max_bytes(client, fake, declare_length):
    chunks = [b"x" * 1000] * 5
    fake.media[MEDIA_PATH] = (b"".join(chunks) if declare_length else iter(chunks), "video/mp4")
    with pytest.raises(WahaMediaTooLarge):
        client.download_media(BASE_URL + MEDIA_PATH, max_bytes=4096)
    assert len(fake.requests) == 1  # too large is not worth another try


def test_download_media_of_an_expired_file_is_not_found(client):
    with pytest.raises(WahaNotFound):
        client.download_media(BASE_URL + "/api/files/default/expired.jpg")


@pytest.mark.parametrize(
    ("result", "message_id"),
    [
        (SENT_TEXT, "true_5511999999999@c.us_3EB0C767D26A1D1E8D0F"),  # WAMessage (GOWS, the spec)
        (SENT_WEBJS, f"true_{CHAT}_3EB0AB"),  # WEBJS
        ({"key": {"remoteJid": "5511999999999@s.whatsapp.net", "fromMe": True, "id": "3EB0CD"}}, f"true_{CHAT}_3EB0CD"),
        ({}, None),  # WEBJS answering 201 with no body
    ],
)
def test_extract_message_id(result, message_id):
    assert extract_message_id(result) == message_id


def test_media_file_needs_exactly_one_source():
    with pytest.raises(ValueError):
        MediaFile(mimetype="image/jpeg")
    with pytest.raises(ValueError):
        MediaFile(mimetype="image/jpeg", url="https://x", data="eA==")
    assert MediaFile.from_bytes(b"hi", "text/plain").as_payload() == {"mimetype": "text/plain", "data": "aGk="}


@pytest.mark.parametrize("method", ["send_image", "send_file", "send_voice", "send_video"])
def test_media_sends_take_inline_files_too(client, fake, method):
    getattr(client, method)(CHAT, MediaFile.from_bytes(b"\x00\x01", "application/octet-stream", "a.bin"))
    assert fake.operations[0] is not None

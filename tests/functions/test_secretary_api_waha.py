"""WAHA session administration: ADMIN only, against the real WAHA emulator, audited, WAHA's failures as problems.

The shared `live_waha` emulator auto-scans a QR code the moment one appears (auto_scan_delay=0.0), so no session
stays in SCAN_QR_CODE long enough to read its QR code deterministically, and no control route holds one there
(`fail` gives FAILED; restart or logout pass through SCAN_QR_CODE into the auto-scan). Pairing tests therefore
run on a second emulator of the same kind started with `auto_scan=False`, where a session waits in SCAN_QR_CODE
until the test scans it with `POST /_emulator/sessions/{s}/scan`. Read-only checks use `live_waha`.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from functions.secretary_api.waha_routes import translate_waha_error
from local.waha_emulator import EmulatorServer
from shared.audit.models import AuditLog
from shared.config import get_settings
from shared.db import session_scope
from shared.users.models import Role
from shared.whatsapp.errors import WahaAuthError, WahaNotFound, WahaRejected, WahaServerError, WahaUnreachable
from shared.whatsapp.models import SessionStatus, WahaSession
from shared.whatsapp.payloads import WEBHOOK_EVENTS
from shared.whatsapp.sessions import record_session_status
from tests.conftest import bearer

API_KEY = "test-waha-key"
HMAC_KEY = "waha-admin-test-hmac"
WEBHOOK_URL = "http://127.0.0.1:9/api/v1/webhooks/waha"  # WAHA's deliveries to it fail; no test needs them
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SESSIONS = "/api/v1/waha/sessions"


@pytest.fixture(scope="module")
def manual_scan_emulator(backends) -> Iterator[EmulatorServer]:
    server = EmulatorServer("127.0.0.1", 0, api_key=API_KEY, session=None, auto_scan=False, boot_delay=0.0,
                            ack_delay=0.0).start()  # fmt: skip
    yield server
    server.stop()


@pytest.fixture
def pairing_waha(manual_scan_emulator, monkeypatch) -> Iterator[EmulatorServer]:
    """Settings pointing at the manual-scan emulator, with our intake's webhook URL and HMAC key."""
    monkeypatch.setenv("WAHA_URL", manual_scan_emulator.url)
    monkeypatch.setenv("WAHA_API_KEY", API_KEY)
    monkeypatch.setenv("WAHA_WEBHOOK_URL", WEBHOOK_URL)
    monkeypatch.setenv("WAHA_WEBHOOK_HMAC_KEY", HMAC_KEY)
    get_settings.cache_clear()
    yield manual_scan_emulator
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def admin(make_user, login) -> dict[str, str]:
    return bearer(login(make_user(Role.ADMIN))["access_token"])


def new_name() -> str:
    return f"clinic-{uuid.uuid4().hex[:8]}"


def waha_get(server: EmulatorServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, headers={"X-Api-Key": API_KEY}, timeout=5)


def waha_post(server: EmulatorServer, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(server.url + path, json=body, headers={"X-Api-Key": API_KEY}, timeout=5)


def wait_for_status(server: EmulatorServer, name: str, status: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while waha_get(server, f"/api/sessions/{name}").json()["status"] != status:
        assert time.monotonic() < deadline, f"session {name} never reached {status}"
        time.sleep(0.01)


def stored_row(name: str) -> WahaSession | None:
    with session_scope() as session:
        return session.scalar(select(WahaSession).where(WahaSession.name == name))


def audit_entries(name: str) -> list[AuditLog]:
    with session_scope() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.entity_id == name).order_by(AuditLog.created_at)))


def every_route(name: str = "default") -> list[tuple[str, str]]:
    return [("get", f"{SESSIONS}/{name}/qr"), ("get", f"{SESSIONS}/{name}"),
            ("post", f"{SESSIONS}/{name}/restart"), ("put", f"{SESSIONS}/{name}")]  # fmt: skip


def test_no_token_gets_401_and_a_user_403_on_every_waha_route(secretary_api, make_user, login):
    user = bearer(login(make_user(Role.USER))["access_token"])

    for method, path in every_route():
        assert getattr(secretary_api, method)(path).status_code == 401, path
        forbidden = getattr(secretary_api, method)(path, headers=user)
        assert forbidden.status_code == 403 and forbidden.json["title"] == "Forbidden", path


def test_invalid_session_names_are_422(secretary_api, admin):
    for name in ("bad%20name", "a" * 65, "dots.not.allowed"):
        for method, path in every_route(name):
            response = getattr(secretary_api, method)(path, headers=admin)
            assert response.status_code == 422, (method, path)
            assert response.json["errors"][0]["field"] == "name"


def test_put_creates_the_session_with_our_signed_webhook_and_its_qr_comes_in_every_format(
    secretary_api, admin, pairing_waha
):
    name = new_name()

    created = secretary_api.put(f"{SESSIONS}/{name}", headers=admin)
    wait_for_status(pairing_waha, name, "SCAN_QR_CODE")
    png = secretary_api.get(f"{SESSIONS}/{name}/qr", headers=admin)
    as_base64 = secretary_api.get(f"{SESSIONS}/{name}/qr?format=base64", headers=admin)
    raw = secretary_api.get(f"{SESSIONS}/{name}/qr?format=raw", headers=admin)

    assert created.status_code == 201
    assert created.json["name"] == name and created.json["status"] in ("STARTING", "SCAN_QR_CODE")
    assert created.json["webhook_url"] == WEBHOOK_URL and created.json["stored_status"] == created.json["status"]
    [webhook] = waha_get(pairing_waha, f"/api/sessions/{name}").json()["config"]["webhooks"]
    assert webhook["url"] == WEBHOOK_URL and webhook["events"] == list(WEBHOOK_EVENTS)
    assert set(webhook["events"]) == {"message", "message.any", "message.ack", "session.status", "message.revoked",
                                      "message.edited", "message.reaction"}  # fmt: skip
    assert webhook["hmac"] == {"key": HMAC_KEY}
    assert webhook["retries"] == {"policy": "exponential", "delaySeconds": 2, "attempts": 6}
    row = stored_row(name)
    assert row is not None and row.webhook_url == WEBHOOK_URL
    [entry] = audit_entries(name)
    assert entry.action == "waha.session.configure" and entry.entity_type == "waha_session"
    assert entry.new_value["created"] is True and entry.new_value["signed"] is True
    assert HMAC_KEY not in str(entry.new_value)
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(PNG_MAGIC)
    assert png.headers["Cache-Control"] == "no-store"
    assert as_base64.status_code == 200 and as_base64.json["mimetype"] == "image/png"
    assert base64.b64decode(as_base64.json["data"]).startswith(PNG_MAGIC)
    assert raw.status_code == 200 and raw.json["value"].startswith("2@")


def test_qr_of_a_paired_session_is_400_and_of_a_stopped_one_409(secretary_api, admin, pairing_waha):
    paired, stopped = new_name(), new_name()
    secretary_api.put(f"{SESSIONS}/{paired}", headers=admin)
    wait_for_status(pairing_waha, paired, "SCAN_QR_CODE")
    waha_post(pairing_waha, f"/_emulator/sessions/{paired}/scan")
    waha_post(pairing_waha, "/api/sessions", {"name": stopped, "start": False})

    already = secretary_api.get(f"{SESSIONS}/{paired}/qr", headers=admin)
    not_started = secretary_api.get(f"{SESSIONS}/{stopped}/qr?format=raw", headers=admin)

    assert already.status_code == 400 and "already authenticated" in already.json["detail"]
    assert not_started.status_code == 409 and "STOPPED" in not_started.json["detail"]


def test_qr_of_the_working_default_session_is_400(secretary_api, admin, live_waha):
    response = secretary_api.get(f"{SESSIONS}/default/qr", headers=admin)

    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "already authenticated" in response.json["detail"]


def test_a_session_waha_does_not_know_is_404(secretary_api, admin, live_waha):
    for method, path in every_route("nobody-here")[:3]:
        response = getattr(secretary_api, method)(path, headers=admin)
        assert response.status_code == 404, path
        assert response.json["type"] == "urn:clinicbot:problem:not-found"
    assert stored_row("nobody-here") is None


def test_get_reports_waha_status_beside_our_stored_one(secretary_api, admin, live_waha):
    unknown_to_us = secretary_api.get(f"{SESSIONS}/default", headers=admin)
    with session_scope() as session:
        record_session_status(session, "default", SessionStatus.SCAN_QR_CODE, None)

    known = secretary_api.get(f"{SESSIONS}/default", headers=admin)

    assert unknown_to_us.status_code == 200
    assert unknown_to_us.json["status"] == "WORKING" and unknown_to_us.json["phone"] == "5511940000000"
    assert unknown_to_us.json["stored_status"] is None and unknown_to_us.json["stored_at"] is None
    assert known.json["status"] == "WORKING" and known.json["stored_status"] == "SCAN_QR_CODE"
    assert known.json["stored_at"] is not None
    assert stored_row("default").status is SessionStatus.SCAN_QR_CODE  # a GET reads, it never writes


def test_restart_is_recorded_and_audited(secretary_api, admin, pairing_waha):
    name = new_name()
    secretary_api.put(f"{SESSIONS}/{name}", headers=admin)
    wait_for_status(pairing_waha, name, "SCAN_QR_CODE")
    waha_post(pairing_waha, f"/_emulator/sessions/{name}/scan")

    restarted = secretary_api.post(f"{SESSIONS}/{name}/restart", headers=admin)
    wait_for_status(pairing_waha, name, "WORKING")
    after = secretary_api.get(f"{SESSIONS}/{name}", headers=admin)

    assert restarted.status_code == 200 and restarted.json["name"] == name
    # A paired session comes back by itself; the emulator may finish booting before it answers.
    assert restarted.json["status"] in ("STARTING", "WORKING")
    assert stored_row(name).status.value == restarted.json["status"]
    entry = audit_entries(name)[-1]
    assert entry.action == "waha.session.restart" and entry.entity_type == "waha_session"
    assert entry.new_value == {"status": restarted.json["status"]}
    assert after.json["status"] == "WORKING" and after.json["phone"]


def test_put_on_an_existing_session_updates_its_config_keeps_the_rest_and_starts_it(secretary_api, admin, pairing_waha):
    name = new_name()
    theirs = {"url": "http://monitor.example/hook", "events": ["session.status"]}
    stale_ours = {"url": WEBHOOK_URL, "events": ["message"]}
    config = {"metadata": {"clinic": "centro"}, "webhooks": [stale_ours, theirs]}
    waha_post(pairing_waha, "/api/sessions", {"name": name, "start": False, "config": config})

    updated = secretary_api.put(f"{SESSIONS}/{name}", headers=admin)

    info = waha_get(pairing_waha, f"/api/sessions/{name}").json()
    assert updated.status_code == 200 and updated.json["status"] != "STOPPED"
    assert info["status"] != "STOPPED"
    assert info["config"]["metadata"] == {"clinic": "centro"}
    assert [hook["url"] for hook in info["config"]["webhooks"]] == [WEBHOOK_URL, theirs["url"]]
    assert info["config"]["webhooks"][0]["events"] == list(WEBHOOK_EVENTS)
    assert audit_entries(name)[-1].new_value["created"] is False


def test_put_without_a_webhook_hmac_key_configures_an_unsigned_webhook(secretary_api, admin, pairing_waha, monkeypatch):
    monkeypatch.delenv("WAHA_WEBHOOK_HMAC_KEY")
    get_settings.cache_clear()
    name = new_name()

    response = secretary_api.put(f"{SESSIONS}/{name}", headers=admin)

    [webhook] = waha_get(pairing_waha, f"/api/sessions/{name}").json()["config"]["webhooks"]
    assert response.status_code == 201 and "hmac" not in webhook


def test_put_without_waha_webhook_url_is_400_naming_it(secretary_api, admin, live_waha, monkeypatch):
    monkeypatch.delenv("WAHA_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()

    response = secretary_api.put(f"{SESSIONS}/not-created", headers=admin)

    assert response.status_code == 400 and "WAHA_WEBHOOK_URL" in response.json["detail"]
    assert waha_get(live_waha, "/api/sessions/not-created").status_code == 404
    assert stored_row("not-created") is None and audit_entries("not-created") == []


def test_waha_down_is_503_with_retry_after(secretary_api, admin, settings_env):
    settings_env(WAHA_WEBHOOK_URL=WEBHOOK_URL)  # so that PUT reaches WAHA instead of stopping at a 400
    assert get_settings().waha_url == "http://127.0.0.1:9"  # the suite's WAHA: nothing listens there

    for method, path in every_route():
        response = getattr(secretary_api, method)(path, headers=admin)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "10" and "unreachable" in response.json["detail"]
    assert stored_row("default") is None and audit_entries("default") == []


def test_a_wrong_waha_api_key_is_502(secretary_api, admin, live_waha, monkeypatch):
    monkeypatch.setenv("WAHA_API_KEY", "not-the-key")
    get_settings.cache_clear()

    response = secretary_api.get(f"{SESSIONS}/default", headers=admin)

    assert response.status_code == 502 and response.json["detail"].startswith("WAHA refused our API key")


def test_every_waha_failure_maps_to_one_problem():
    path = "/api/sessions/x"
    nestjs = '{"message": ["config.webhooks must be an array"], "error": "Bad Request", "statusCode": 400}'
    cases = {
        WahaNotFound("GET", path, "HTTP 404", status=404): (404, {}),
        WahaUnreachable("GET", path, "ConnectError"): (503, {"Retry-After": "10"}),
        WahaServerError("GET", path, "HTTP 500", status=500): (503, {"Retry-After": "10"}),
        WahaAuthError("GET", path, "HTTP 401", status=401): (502, {}),
        WahaRejected("PUT", path, "HTTP 400", status=400, body=nestjs): (502, {}),
    }

    for error, (status, headers) in cases.items():
        problem = translate_waha_error(error)
        assert (problem.status, problem.headers) == (status, headers), error
    assert translate_waha_error(WahaAuthError("GET", path, "x", status=403)).detail.startswith(
        "WAHA refused our API key")  # fmt: skip
    rejected = translate_waha_error(WahaRejected("PUT", path, "HTTP 400", status=400, body=nestjs))
    assert rejected.detail == "WAHA rejected the request (HTTP 400): config.webhooks must be an array"
    waha_own = translate_waha_error(WahaRejected("POST", path, "HTTP 422", status=422, body='{"error": "Not ready"}'))
    assert waha_own.detail.endswith(": Not ready")
    cut_short = translate_waha_error(WahaRejected("POST", path, "HTTP 422", status=422, body='{"message": "Se'))
    assert cut_short.detail.endswith(': {"message": "Se')


def test_the_waha_routes_are_documented_with_schemas_and_security(secretary_api):
    paths = secretary_api.get("/api/v1/openapi.json").json["paths"]

    operations = {
        ("get", f"{SESSIONS}/{{name}}/qr"): "200",
        ("get", f"{SESSIONS}/{{name}}"): "200",
        ("post", f"{SESSIONS}/{{name}}/restart"): "200",
        ("put", f"{SESSIONS}/{{name}}"): "201",
    }
    for (method, path), ok in operations.items():
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert "application/json" in operation["responses"][ok]["content"], path
        assert {"401", "403", "422", "503"} <= set(operation["responses"]), path
        assert operation["parameters"][0]["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert "image/png" in paths[f"{SESSIONS}/{{name}}/qr"]["get"]["responses"]["200"]["content"]

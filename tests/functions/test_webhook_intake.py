"""The webhook intake through functions-framework, on real Postgres and Redis, with the in-process queue
running the message processor in the background (joined before each test ends)."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import functions_framework
import httpx
import pytest
from sqlalchemy import func, select

from shared.alerts.models import Alert
from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    DeliveryAck,
    MessageDirection,
    SenderKind,
)
from shared.conversations.turns import MAINTENANCE_NOTICE
from shared.db import session_scope
from shared.migrate import PROJECT_ROOT
from shared.notifications.models import Notification
from shared.queue import get_task_queue
from shared.tasks.models import TaskRecord
from shared.users.models import Role
from shared.whatsapp.models import SessionStatus, WahaSession
from shared.whatsapp.signature import sign_body
from tests.waha_reference import PAYLOADS

URL = "/api/v1/webhooks/waha"
PATIENT = "5511988887777@c.us"
KEY = "webhook-test-key"


@pytest.fixture(scope="module")
def intake(backends):
    app = functions_framework.create_app("webhook_intake", str(PROJECT_ROOT / "functions/webhook_intake/main.py"))
    return app.test_client()


@pytest.fixture(autouse=True)
def drained_queue(live_waha):
    """The processor's tasks (media, notices) reach the WAHA emulator; they run in the background, so let them
    finish before the tables are emptied."""
    yield
    assert get_task_queue().join(timeout=30)


def message_body(text="Olá, quero marcar uma consulta", *, sender=PATIENT, message_id=None, event="message", **extra):
    payload = {"id": message_id or f"false_{sender}_{uuid.uuid4().hex[:20].upper()}", "timestamp": int(time.time()),
               "from": sender, "fromMe": False, "to": "5511900000000@c.us", "body": text, "hasMedia": False,
               "_data": {"pushName": "Maria"}, **extra}  # fmt: skip
    return json.dumps({"id": f"evt_{uuid.uuid4().hex}", "timestamp": int(time.time() * 1000), "event": event,
                       "session": "default", "engine": "GOWS", "payload": payload,
                       "me": {"id": "5511900000000@c.us", "pushName": "Clínica"}}).encode()  # fmt: skip


def post(intake, body: bytes, **headers):
    return intake.post(URL, data=body, headers={"Content-Type": "application/json", **headers})


def signed(body: bytes, key: str = KEY, timestamp_ms: int | None = None) -> dict[str, str]:
    stamp = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    return {"X-Webhook-Hmac": sign_body(body, key), "X-Webhook-Hmac-Algorithm": "sha512",
            "X-Webhook-Timestamp": str(stamp)}  # fmt: skip


# The patient's messages only: the processor's reply to them is stored too, in the background.
INBOUND = ConversationMessage.direction == MessageDirection.INBOUND


def count(model, *where) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def tasks(kind: str) -> list[TaskRecord]:
    assert get_task_queue().join(timeout=30)
    with session_scope() as session:
        return list(session.scalars(select(TaskRecord).where(TaskRecord.payload["kind"].astext == kind)))


def test_every_real_waha_payload_is_accepted_and_stored(intake):
    for path in sorted(PAYLOADS.glob("*.json")):
        if path.name.endswith(".request_headers.json"):
            continue
        response = post(intake, path.read_bytes())
        assert response.status_code == 200, (path.name, response.json)
        assert response.json == {"status": "received"}
    with session_scope() as session:
        message = session.scalars(select(ConversationMessage).where(INBOUND)).one()
        assert message.waha_message_id == "false_79069471990@c.us_6738E65C1C0E65591F2739658FC18A26"
        assert message.direction == MessageDirection.INBOUND and message.media_mimetype == "image/jpeg"
        assert session.scalars(select(Conversation)).one().name == "Sim1"
        assert session.scalars(select(WahaSession)).one().status == SessionStatus.SCAN_QR_CODE
    assert len(tasks("process_message")) == 1 and len(tasks("fetch_media")) == 1


def test_a_signed_webhook_is_accepted_and_a_bad_or_missing_signature_stores_nothing(intake, settings_env):
    settings_env(WAHA_WEBHOOK_HMAC_KEY=KEY)
    body = message_body()
    for headers in ({}, signed(body, key="another-key"), {**signed(body), "X-Webhook-Hmac": "ab" * 64},
                    signed(body, timestamp_ms=int((time.time() - 3600) * 1000))):  # fmt: skip
        response = post(intake, body, **headers)
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert count(ConversationMessage) == 0 and count(Conversation) == 0
    assert post(intake, body, **signed(body)).status_code == 200
    assert count(ConversationMessage, INBOUND) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"\x00garbage{", "body"), (b'{"event": "message", "session": "default", "payload": {"from": "x@c.us"}}',
                                 "payload.id")],
)  # fmt: skip
def test_a_body_we_cannot_use_is_422_naming_the_field_and_stores_nothing(intake, body, field):
    response = post(intake, body)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json["errors"]]
    assert count(ConversationMessage) == 0 and count(Conversation) == 0


def test_one_message_delivered_five_times_one_after_another_is_one_row_and_one_task(intake):
    body = message_body()
    statuses = [post(intake, body).status_code for _ in range(5)]
    any_event = json.loads(body)
    any_event["event"] = "message.any"  # subscribing to both doubles every message
    statuses.append(post(intake, json.dumps(any_event).encode()).status_code)
    assert statuses == [200] * 6
    assert count(ConversationMessage, INBOUND) == 1 and len(tasks("process_message")) == 1


def test_one_message_delivered_five_times_at_once_is_one_row_and_one_task(intake):
    body = message_body()
    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: post(intake, body).status_code, range(5)))
    assert statuses == [200] * 5
    assert count(ConversationMessage, INBOUND) == 1 and len(tasks("process_message")) == 1


def test_the_processor_answers_the_turn(intake):
    assert post(intake, message_body()).status_code == 200
    assert get_task_queue().join(timeout=30)
    assert [task.status.value for task in tasks("process_message")] == ["COMPLETED"]
    with session_scope() as session:
        inbound = session.scalars(select(ConversationMessage).where(ConversationMessage.direction == "INBOUND")).one()
        reply = session.scalars(select(ConversationMessage).where(ConversationMessage.sender_kind == "BOT")).one()
    assert inbound.processed_at is not None and inbound.processing_note == "replied"
    assert reply.sent_at is not None and reply.body


@pytest.mark.parametrize("chat", ["120363025246125888@g.us", "status@broadcast", "120363@newsletter"])
def test_groups_broadcasts_status_and_channels_are_acknowledged_and_ignored(intake, chat):
    assert post(intake, message_body(sender=chat)).status_code == 200
    assert count(ConversationMessage) == 0 and count(Conversation) == 0


def test_a_lid_sender_is_stored_under_the_phone_in_data_or_else_under_the_lid(intake):
    post(intake, message_body(sender="123456789@lid", _data={"key": {"remoteJidAlt": "5511977776666@s.whatsapp.net"}}))
    post(intake, message_body(sender="987654321@lid", _data={}))
    with session_scope() as session:
        chats = {c.chat_id: c.phone_number for c in session.scalars(select(Conversation))}
    assert chats == {"5511977776666@c.us": "5511977776666", "987654321@lid": None}


def test_a_message_typed_on_the_clinic_phone_is_a_secretary_message_and_a_human_takeover(intake):
    post(intake, message_body("Oi, aqui é a Ana da recepção", sender="5511900000000@c.us", to=PATIENT, fromMe=True,
                              source="app"))  # fmt: skip
    with session_scope() as session:
        message = session.scalars(select(ConversationMessage)).one()
        conversation = session.scalars(select(Conversation)).one()
    assert message.sender_kind == SenderKind.SECRETARY and message.direction == MessageDirection.OUTBOUND
    assert conversation.chat_id == PATIENT and conversation.human_takeover_at is not None
    assert tasks("process_message") == []


def test_the_echo_of_our_own_send_is_matched_to_the_stored_message_not_duplicated(intake):
    with session_scope() as session:
        conversation = Conversation(chat_id=PATIENT, phone_number="5511988887777")
        session.add(conversation)
        session.flush()
        session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.OUTBOUND,
                                        sender_kind=SenderKind.BOT, body="Claro! Qual o melhor horário?"))  # fmt: skip
    echo = message_body("Claro! Qual o melhor horário?", sender="5511900000000@c.us", to=PATIENT, fromMe=True,
                        source="api", message_id="true_5511988887777@c.us_3EB0AAA")  # fmt: skip
    assert post(intake, echo).status_code == 200
    assert post(intake, echo).status_code == 200
    with session_scope() as session:
        outbound = session.scalars(select(ConversationMessage)).one()
    assert outbound.waha_message_id == "true_5511988887777@c.us_3EB0AAA"


def test_acks_move_delivery_forward_only(intake):
    with session_scope() as session:
        conversation = Conversation(chat_id=PATIENT)
        session.add(conversation)
        session.flush()
        session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.OUTBOUND,
                                        sender_kind=SenderKind.BOT, body="Oi", waha_message_id="true_x_1",
                                        ack=DeliveryAck.SERVER))  # fmt: skip

    def ack(level: int) -> None:
        body = {"event": "message.ack", "session": "default", "payload": {"id": "true_x_1", "from": PATIENT,
                "to": PATIENT, "participant": None, "fromMe": True, "ack": level, "ackName": "X"}}  # fmt: skip
        assert post(intake, json.dumps(body).encode()).status_code == 200

    for level, expected in ((3, DeliveryAck.READ), (2, DeliveryAck.READ), (1, DeliveryAck.READ), (4, "PLAYED")):
        ack(level)
        with session_scope() as session:
            assert session.scalars(select(ConversationMessage.ack)).one() == expected


def session_status(status: str) -> bytes:
    payload = {"name": "default", "status": status, "statuses": []}
    return json.dumps({"id": f"evt_{uuid.uuid4().hex}", "timestamp": int(time.time() * 1000),
                       "event": "session.status", "session": "default", "payload": payload}).encode()  # fmt: skip


def test_session_status_is_tracked_failed_alerts_and_restarts_scan_qr_notifies_admins(intake, make_user):
    make_user(Role.ADMIN)
    make_user(Role.USER)
    for status in ("STARTING", "SCAN_QR_CODE", "SCAN_QR_CODE", "WORKING", "FAILED"):
        assert post(intake, session_status(status)).status_code == 200
    with session_scope() as session:
        assert session.scalars(select(WahaSession.status)).one() == SessionStatus.FAILED
    assert count(Notification) == 1  # the one ADMIN, once for the repeated SCAN_QR_CODE
    assert count(Alert, Alert.kind == "waha_session_failed") == 1
    assert [task.payload["session"] for task in tasks("restart_session")] == ["default"]


def test_a_flooding_chat_is_stored_in_full_but_starts_no_more_turns(intake, settings_env):
    settings_env(CHAT_MESSAGE_LIMIT_PER_MINUTE="3")
    for n in range(5):
        assert post(intake, message_body(f"mensagem {n}")).status_code == 200
    assert count(ConversationMessage, INBOUND) == 5
    assert len(tasks("process_message")) == 3
    assert count(ConversationMessage, ConversationMessage.processing_note == "rate_limited") == 2
    assert count(Alert, Alert.kind == "chat_rate_limited") == 1


def test_only_a_flooding_source_gets_429_with_rate_limit_headers(intake, settings_env):
    settings_env(WEBHOOK_RATE_LIMIT_PER_SOURCE="3")
    answers = [post(intake, message_body(f"m{n}")) for n in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[2].headers["X-RateLimit-Remaining"] == "0"
    assert answers[3].headers["X-RateLimit-Remaining"] == "0" and int(answers[3].headers["Retry-After"]) >= 1
    assert count(ConversationMessage, INBOUND) == 3


def test_in_maintenance_messages_are_stored_and_the_patient_gets_one_notice(intake, settings_env, live_waha):
    settings_env(MAINTENANCE_MODE="true")
    for text in ("oi", "tem alguém aí?"):
        assert post(intake, message_body(text)).status_code == 200
    assert count(ConversationMessage, ConversationMessage.processing_note == "maintenance") == 2
    assert tasks("process_message") == []
    assert [task.status.value for task in tasks("maintenance_notice")] == ["COMPLETED"]
    sent = httpx.get(f"{live_waha.url}/_emulator/outbound", params={"chatId": PATIENT}).json()
    assert [message["text"] for message in sent] == [MAINTENANCE_NOTICE]


def test_with_redis_down_the_message_is_still_stored_and_acknowledged(intake, settings_env):
    settings_env(REDIS_URL="redis://127.0.0.1:9/0")
    assert post(intake, message_body()).status_code == 200
    assert count(ConversationMessage, INBOUND) == 1


def test_with_postgres_down_the_intake_answers_503_so_waha_retries(intake, settings_env):
    settings_env(DATABASE_URL="postgresql+pg8000://postgres@127.0.0.1:9/nothing")
    response = post(intake, message_body())
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["title"] == "Service Unavailable"


def test_the_webhook_is_in_the_openapi_document_and_needs_no_token(intake, secretary_api):
    document = secretary_api.get("/api/v1/openapi.json").json
    operation = document["paths"][URL]["post"]
    assert "security" not in operation or operation["security"] == []
    assert set(operation["responses"]) >= {"200", "401", "422", "429", "503"}

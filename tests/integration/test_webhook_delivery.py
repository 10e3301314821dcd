"""Outbound webhooks end to end (card 113): events reach a real HTTP receiver, signed, through the task queue;
failures are retried with backoff and end FAILED; a task run twice (or at once) sends once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import select

from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.migrate import PROJECT_ROOT
from shared.queue import Task, get_task_queue
from shared.tasks.target import RetryLater
from shared.webhooks.delivery import deliver
from shared.webhooks.dispatch import emit_event
from shared.webhooks.events import LEAD_CREATED, MESSAGE_RECEIVED
from shared.webhooks.models import DeliveryStatus, WebhookDelivery
from shared.webhooks.payloads import announce_received_messages
from tests.integration.held_queue import HeldQueue

URL = "/api/v1/webhooks"
PROCESSOR = Path(PROJECT_ROOT) / "functions/message_processor/main.py"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1: answers POSTs with the scripted statuses (then 200), keeps what it got."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        time.sleep(self.delay)
        self.received.append(Received(headers, body))
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = found.answer(dict(self.headers.items()), body)
            reply = b"ok" if status < 300 else b"receiver exploded"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    found.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_retries(settings_env):
    settings_env(WEBHOOK_DELIVERY_BASE_SECONDS="0.01", WEBHOOK_DELIVERY_MAX_ATTEMPTS="3")
    yield
    assert get_task_queue().join(timeout=30)  # nothing runs on after the test's tables are emptied


def register(secretary_api, headers, url: str, events: list[str]) -> dict:
    created = secretary_api.post(URL, json={"url": url, "events": events}, headers=headers)
    assert created.status_code == 201, created.json
    return created.json


def deliveries(secretary_api, headers, webhook_id: str) -> list[dict]:
    answer = secretary_api.get(f"{URL}/{webhook_id}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json["items"]


def assert_signed(request: Received, secret: str) -> None:
    timestamp = request.headers["X-Clinicbot-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Clinicbot-Signature"], f"sha256={expected}")
    assert abs(int(timestamp) - time.time()) < 60


def test_a_lead_created_through_the_api_reaches_the_receiver_signed(secretary_api, people, receiver, fast_retries):
    hook = register(secretary_api, people.admin_h, receiver.url, ["lead.created"])
    lead = secretary_api.post("/api/v1/leads", json={"name": "Maria Oliveira", "phone_number": "+55 11 98765-4321"},
                              headers=people.ana_h)  # fmt: skip
    assert lead.status_code == 201, lead.json
    assert get_task_queue().join(timeout=30)

    [request] = receiver.received
    assert_signed(request, hook["secret"])
    assert request.headers["X-Clinicbot-Event"] == "lead.created"
    body = request.json
    assert list(body) == ["id", "event", "created_at", "data"] and body["event"] == "lead.created"
    assert body["data"]["lead_id"] == lead.json["id"] and body["data"]["phone_number"] == "5511987654321"
    assert body["data"]["assigned_to_user_id"] == str(people.ana.id) and "secret" not in request.body.decode()
    [delivery] = deliveries(secretary_api, people.admin_h, hook["id"])
    assert request.headers["X-Clinicbot-Delivery"] == delivery["id"] and delivery["event_id"] == body["id"]
    assert (delivery["status"], delivery["attempt_count"]) == ("DELIVERED", 1) and delivery["delivered_at"]
    assert [(a["number"], a["status_code"], a["error"]) for a in delivery["attempts"]] == [(1, 200, None)]


def test_a_failed_attempt_is_retried_and_both_attempts_are_visible(secretary_api, people, receiver, fast_retries):
    receiver.statuses = [500]
    hook = register(secretary_api, people.admin_h, receiver.url, ["lead.created", "conversation.closed"])
    assert secretary_api.post(f"{URL}/{hook['id']}/ping", headers=people.admin_h).status_code == 202
    assert get_task_queue().join(timeout=30)

    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body  # the same event, byte for byte
    assert len({r.headers["X-Clinicbot-Delivery"] for r in receiver.received}) == 1
    for request in receiver.received:
        assert_signed(request, hook["secret"])
    [delivery] = deliveries(secretary_api, people.admin_h, hook["id"])
    assert (delivery["event"], delivery["status"], delivery["attempt_count"]) == ("ping", "DELIVERED", 2)
    first, second = delivery["attempts"]
    assert (first["number"], first["status_code"], second["number"], second["status_code"]) == (1, 500, 2, 200)
    assert first["error"] == "HTTP 500: receiver exploded" and first["duration_ms"] >= 0
    assert second["attempted_at"] > first["attempted_at"]


def test_a_receiver_that_always_fails_ends_failed_after_the_last_attempt_and_can_be_redelivered(
    secretary_api, people, receiver, fast_retries
):
    receiver.statuses = [500, 503, 404]
    hook = register(secretary_api, people.admin_h, receiver.url, ["lead.created"])
    secretary_api.post("/api/v1/leads", json={"name": "Ana", "phone_number": "11987654321"}, headers=people.admin_h)
    assert get_task_queue().join(timeout=30)

    [delivery] = deliveries(secretary_api, people.admin_h, hook["id"])
    assert len(receiver.received) == 3
    assert (delivery["status"], delivery["next_attempt_at"], delivery["delivered_at"]) == ("FAILED", None, None)
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 404]

    again = secretary_api.post(f"{URL}/deliveries/{delivery['id']}/redeliver", headers=people.admin_h)
    assert again.status_code == 202 and again.json["status"] == "PENDING"
    assert get_task_queue().join(timeout=30)
    [delivery] = deliveries(secretary_api, people.admin_h, hook["id"])
    assert (delivery["status"], len(delivery["attempts"]), len(receiver.received)) == ("DELIVERED", 4, 4)


def test_an_unreachable_receiver_is_recorded_with_its_connection_error(secretary_api, people, fast_retries):
    hook = register(secretary_api, people.admin_h, "http://127.0.0.1:9/nobody", ["lead.created"])
    secretary_api.post(f"{URL}/{hook['id']}/ping", headers=people.admin_h)
    assert get_task_queue().join(timeout=30)

    [delivery] = deliveries(secretary_api, people.admin_h, hook["id"])
    assert delivery["status"] == "FAILED" and len(delivery["attempts"]) == 3
    assert all(a["status_code"] is None and a["error"].startswith("ConnectError") for a in delivery["attempts"])


def held_delivery(secretary_api, people, receiver, event: str = LEAD_CREATED) -> tuple[uuid.UUID, Task]:
    register(secretary_api, people.admin_h, receiver.url, [event])
    queue = HeldQueue()
    with session_scope() as session:
        assert emit_event(session, event, {"lead_id": "x"}, queue=queue) == 1
    [task] = queue.created  # handed over after the commit, not before
    return uuid.UUID(task.payload["delivery_id"]), task


def test_a_delivery_task_run_twice_sends_once(secretary_api, people, receiver, fast_retries):
    delivery_id, task = held_delivery(secretary_api, people, receiver)
    processor = functions_framework.create_app("message_processor", str(PROCESSOR)).test_client()
    headers = {"X-CloudTasks-TaskName": task.task_id, "X-CloudTasks-QueueName": "clinicbot-tasks-webhooks"}

    answers = [processor.post("/tasks/message_processor", data=task.body, headers=headers) for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200], [a.json for a in answers]
    assert len(receiver.received) == 1
    with session_scope() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        assert (delivery.status, delivery.attempt_count, len(delivery.attempts)) == (DeliveryStatus.DELIVERED, 1, 1)


def test_two_runs_of_one_attempt_at_the_same_time_send_once(secretary_api, people, receiver, fast_retries):
    delivery_id, _task = held_delivery(secretary_api, people, receiver)
    receiver.delay = 0.5
    outcomes: list[str] = []

    def run() -> None:
        try:
            outcomes.append(deliver(delivery_id, 1))
        except RetryLater:
            outcomes.append("retry later")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(outcomes) == ["delivered", "retry later"] and len(receiver.received) == 1
    assert deliver(delivery_id, 1) == "skipped" and deliver(delivery_id, 2) == "skipped"


def test_an_inactive_or_unsubscribed_endpoint_gets_nothing(secretary_api, people, receiver, fast_retries):
    hook = register(secretary_api, people.admin_h, receiver.url, ["lead.created"])
    secretary_api.patch(f"{URL}/{hook['id']}", json={"is_active": False}, headers=people.admin_h)
    with session_scope() as session:
        assert emit_event(session, LEAD_CREATED, {}) == 0
        assert emit_event(session, MESSAGE_RECEIVED, {}) == 0
    assert deliveries(secretary_api, people.admin_h, hook["id"]) == []


def test_a_patients_message_is_announced_once_however_often_its_task_runs(secretary_api, people, receiver,
                                                                         fast_retries):  # fmt: skip
    hook = register(secretary_api, people.admin_h, receiver.url, ["message.received"])
    with session_scope() as session:
        conversation = Conversation(chat_id="5511977776666@c.us", phone_number="5511977776666", name="Maria")
        session.add(conversation)
        session.flush()
        message = ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                      sender_kind=SenderKind.PATIENT, body="Quero marcar uma consulta")  # fmt: skip
        session.add(message)
        session.flush()
        ids = conversation.id, message.id

    assert announce_received_messages(*ids) == 1
    assert announce_received_messages(*ids) == 0  # the task ran again
    assert announce_received_messages(ids[0], None) == 0  # a sweep's task names no message
    assert get_task_queue().join(timeout=30)

    [request] = receiver.received
    assert_signed(request, hook["secret"])
    data = request.json["data"]
    assert (request.json["event"], data["message_id"], data["body"]) == (
        "message.received", str(ids[1]), "Quero marcar uma consulta")  # fmt: skip


def test_the_assistants_handoff_emits_lead_created_once(secretary_api, people, receiver, fast_retries):
    from shared.assistant.handoff import hand_off

    register(secretary_api, people.admin_h, receiver.url, ["lead.created"])
    with session_scope() as session:
        conversation = Conversation(chat_id="5511966665555@c.us", phone_number="5511966665555")
        session.add(conversation)
        session.flush()
        lead = hand_off(session, conversation, "schedule", create_lead=True, patient_name="João")
        hand_off(session, conversation, "schedule", create_lead=True)  # the same lead: no second event
        lead_id = lead.id
    assert get_task_queue().join(timeout=30)

    assert [r.json["data"]["lead_id"] for r in receiver.received] == [str(lead_id)]
    assert receiver.received[0].json["data"]["name"] == "João"


def test_closing_a_conversation_emits_conversation_closed(secretary_api, people, receiver, live_waha, fast_retries):
    register(secretary_api, people.admin_h, receiver.url, ["conversation.closed"])
    with session_scope() as session:
        conversation = Conversation(chat_id="5511955554444@c.us", phone_number="5511955554444")
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    path = f"/api/v1/conversations/{conversation_id}/status"
    assert secretary_api.patch(path, json={"status": "WAITING_SECRETARY"}, headers=people.admin_h).status_code == 200
    assert secretary_api.patch(path, json={"status": "CLOSED"}, headers=people.admin_h).status_code == 200
    assert get_task_queue().join(timeout=30)

    [request] = receiver.received
    assert request.json["event"] == "conversation.closed"
    assert (request.json["data"]["conversation_id"], request.json["data"]["status"]) == (str(conversation_id), "CLOSED")
    with session_scope() as session:
        events = session.scalars(select(WebhookDelivery.event)).all()
    assert events == ["conversation.closed"]

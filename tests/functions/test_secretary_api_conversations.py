"""/api/v1/conversations through the secretary API: listing, detail, status, assignment, and the human in the loop
(replies that really reach the WAHA emulator, once)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.assistant.batch import silence_reason
from shared.audit.models import AuditLog
from shared.cache import get_redis, key
from shared.config import get_settings
from shared.conversations.models import (
    Conversation,
    ConversationContext,
    ConversationMessage,
    ConversationStatus,
    MessageDirection,
    MessageKind,
    SenderKind,
)
from shared.conversations.service import TRANSITIONS
from shared.db import session_scope
from shared.leads.models import Lead
from shared.notifications.models import Notification, NotificationType
from shared.templates.models import ScriptedMessage
from shared.users.models import Role, UserStatus
from shared.users.schemas import UserUpdate
from shared.users.service import update_user
from tests.conftest import bearer

BASE = "/api/v1/conversations"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin_h(make_user, login) -> dict[str, str]:
    """Headers of one ADMIN, for tests that need nobody else (logging in costs a password hash)."""
    return bearer(login(make_user(Role.ADMIN))["access_token"])


@pytest.fixture
def waha(waha_emulator, settings_env):
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key")
    waha_emulator.emulator.outbox.clear()
    waha_emulator.emulator.faults.clear()
    yield waha_emulator
    waha_emulator.emulator.faults.clear()


def make_conversation(phone: str = "5511999990001", *, messages: tuple[str, ...] = (), **fields) -> uuid.UUID:
    """A conversation (and its inbound messages, a minute apart from T0) written straight to the database."""
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, **fields)
        session.add(conversation)
        session.flush()
        for i, body in enumerate(messages):
            session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                            sender_kind=SenderKind.PATIENT, body=body,
                                            created_at=T0 + timedelta(minutes=i)))  # fmt: skip
        return conversation.id


def load(conversation_id: uuid.UUID) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, conversation_id)


def audits(conversation_id: uuid.UUID) -> list[AuditLog]:
    with session_scope() as session:
        statement = select(AuditLog).where(AuditLog.entity_id == str(conversation_id)).order_by(AuditLog.created_at)
        return list(session.scalars(statement))


def message_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ConversationMessage))


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


# Authentication and visibility ---------------------------------------------------------------------------------


def test_every_route_needs_a_token(secretary_api, backends):
    some = uuid.uuid4()
    routes = [("get", BASE), ("get", f"{BASE}/{some}"), ("patch", f"{BASE}/{some}/status"),
              ("post", f"{BASE}/{some}/assign"), ("post", f"{BASE}/{some}/claim"),
              ("post", f"{BASE}/{some}/messages"), ("post", f"{BASE}/{some}/resume-bot")]  # fmt: skip
    for method, path in routes:
        response = getattr(secretary_api, method)(path, json={})
        assert response.status_code == 401, (method, path)
        assert response.mimetype == "application/problem+json"


def test_a_user_reads_and_changes_only_her_conversations_and_an_admin_all(secretary_api, people, waha):
    hers = make_conversation("5511999990001", assigned_to_user_id=people.ana.id, messages=("oi",))
    other = make_conversation("5511999990002", assigned_to_user_id=people.bia.id, messages=("olá",))
    nobodys = make_conversation("5511999990003")

    assert ids(secretary_api.get(BASE, headers=people.ana_h)) == [str(hers)]
    assert sorted(ids(secretary_api.get(BASE, headers=people.admin_h))) == sorted(map(str, [hers, other, nobodys]))
    # Asking for someone else's is not a way around the rule: the filters only narrow what she may see.
    assert ids(secretary_api.get(BASE, query_string={"assigned_to": str(people.bia.id)}, headers=people.ana_h)) == []

    for conversation in (other, nobodys):
        calls = [
            secretary_api.get(f"{BASE}/{conversation}", headers=people.ana_h),
            secretary_api.patch(f"{BASE}/{conversation}/status", json={"status": "CLOSED"}, headers=people.ana_h),
            secretary_api.post(f"{BASE}/{conversation}/messages", json={"text": "oi"}, headers=people.ana_h),
            secretary_api.post(f"{BASE}/{conversation}/resume-bot", headers=people.ana_h),
        ]
        assert [call.status_code for call in calls] == [404] * 4
        assert calls[0].json["type"] == "urn:clinicbot:problem:not-found"
    assert secretary_api.post(f"{BASE}/{other}/claim", headers=people.ana_h).status_code == 404
    assert load(other).status is ConversationStatus.ACTIVE and load(other).assigned_to_user_id == people.bia.id
    assert waha.emulator.outbox.list_messages() == [] and message_count() == 2

    assert secretary_api.get(f"{BASE}/{other}", headers=people.admin_h).status_code == 200
    changed = secretary_api.patch(f"{BASE}/{other}/status", json={"status": "CLOSED"}, headers=people.admin_h)
    assert changed.status_code == 200 and changed.json["status"] == "CLOSED"


# Listing ---------------------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_with_the_silent_ones_last_and_pages(secretary_api, admin_h):
    made = [make_conversation(f"55119999900{i:02d}", last_message_at=T0 + timedelta(hours=i)) for i in range(5)]
    never = make_conversation("5511999990099")

    first = secretary_api.get(BASE, query_string={"limit": 2}, headers=admin_h)
    assert first.json["total"] == 6 and first.json["pages"] == 3 and first.json["page"] == 1
    assert ids(first) == [str(made[4]), str(made[3])]
    assert ids(secretary_api.get(BASE, query_string={"limit": 2, "page": 2}, headers=admin_h)) == [
        str(made[2]),
        str(made[1]),
    ]
    assert ids(secretary_api.get(BASE, query_string={"limit": 2, "page": 3}, headers=admin_h)) == [
        str(made[0]),
        str(never),
    ]
    beyond = secretary_api.get(BASE, query_string={"limit": 2, "page": 9}, headers=admin_h)
    assert beyond.json["items"] == [] and beyond.json["total"] == 6


def test_the_list_filters_combine(secretary_api, people):
    urgent = make_conversation("5511988880001", name="Maria Souza", is_urgent=True, urgency_reason="dor no peito",
                               status=ConversationStatus.WAITING_SECRETARY, assigned_to_user_id=people.ana.id,
                               last_message_at=T0)  # fmt: skip
    closed = make_conversation("5521977770002", name="João Lima", status=ConversationStatus.CLOSED,
                               last_message_at=T0 + timedelta(days=10))  # fmt: skip
    plain = make_conversation("5511966660003", name="Marina 100%_certa", last_message_at=T0 + timedelta(days=20))

    def listed(**query) -> set[str]:
        return set(ids(secretary_api.get(BASE, query_string=query, headers=people.admin_h)))

    assert listed(status="WAITING_SECRETARY") == {str(urgent)}
    assert listed(is_urgent="true") == {str(urgent)}
    assert listed(is_urgent="false") == {str(closed), str(plain)}
    assert listed(assigned_to=str(people.ana.id)) == {str(urgent)}
    assert listed(unassigned="true") == {str(closed), str(plain)}
    assert listed(date_from="2026-03-05T00:00:00Z") == {str(closed), str(plain)}
    assert listed(date_from="2026-03-05T00:00:00-03:00", date_to="2026-03-15T00:00:00Z") == {str(closed)}
    assert listed(date_to=T0.isoformat()) == {str(urgent)}  # inclusive
    assert listed(search="mari") == {str(urgent), str(plain)}
    assert listed(search="MARIA") == {str(urgent)}
    assert listed(search="100%_") == {str(plain)}  # wildcards are literal
    assert listed(search="%") == {str(plain)}
    assert listed(search="(21) 97777") == {str(closed)}  # a formatted phone finds the digits
    assert listed(search="5511") == {str(urgent), str(plain)}
    assert listed(search="mari", status="ACTIVE") == {str(plain)}

    user_view = secretary_api.get(BASE, query_string={"is_urgent": "true"}, headers=people.ana_h)
    item = user_view.json["items"][0]
    assert item["id"] == str(urgent) and item["urgency_reason"] == "dor no peito"
    assert datetime.fromisoformat(item["last_message_at"]) == T0  # ISO 8601 with its offset


@pytest.mark.parametrize(
    "query",
    [
        {"status": "OPEN"},
        {"page": 0},
        {"page": 10**12},
        {"limit": 101},
        {"assigned_to": "not-a-uuid"},
        {"date_from": "yesterday"},
        {"date_from": "2026-03-02T00:00:00Z", "date_to": "2026-03-01T00:00:00Z"},
        {"search": ""},
        {"search": "a\x00b"},
        {"search": "x" * 101},
    ],
)
def test_bad_list_queries_are_422_problems(secretary_api, admin_h, query):
    response = secretary_api.get(BASE, query_string=query, headers=admin_h)
    assert response.status_code == 422, response.json
    assert response.json["type"] == "urn:clinicbot:problem:validation"


def test_each_item_carries_a_preview_of_its_latest_message(secretary_api, admin_h):
    long_text = "Bom dia! " + "quero marcar uma consulta " * 10
    talkative = make_conversation("5511999990001", messages=("primeira", long_text), last_message_at=T0)
    silent = make_conversation("5511999990002", last_message_at=T0 - timedelta(days=1))

    items = secretary_api.get(BASE, headers=admin_h).json["items"]
    assert [item["id"] for item in items] == [str(talkative), str(silent)]
    preview = items[0]["last_message"]
    assert preview["kind"] == "TEXT" and preview["direction"] == "INBOUND" and preview["sender_kind"] == "PATIENT"
    assert len(preview["preview"]) <= 120 and preview["preview"].endswith("…")
    assert long_text.startswith(preview["preview"][:-1])
    assert items[1]["last_message"] is None


# Detail ----------------------------------------------------------------------------------------------------------


def test_the_detail_has_the_latest_messages_oldest_first_facts_and_lead(secretary_api, people):
    conversation = make_conversation("5511999990001", name="Maria", assigned_to_user_id=people.ana.id,
                                     messages=tuple(f"mensagem {i}" for i in range(60)))  # fmt: skip
    with session_scope() as session:
        session.add(ConversationContext(conversation_id=conversation, patient_name="Maria Souza",
                                        symptoms=["enxaqueca"], preferences={"periodo": "manhã"},
                                        intent_type="SCHEDULE"))  # fmt: skip
        lead = Lead(conversation_id=conversation, phone_number="5511999990001", name="Maria")
        session.add(lead)
        session.flush()
        lead_id = str(lead.id)

    detail = secretary_api.get(f"{BASE}/{conversation}", headers=people.ana_h)
    assert detail.status_code == 200, detail.json
    body = detail.json
    assert [m["body"] for m in body["messages"]] == [f"mensagem {i}" for i in range(10, 60)]
    assert body["has_more_messages"] is True
    assert body["last_message"]["preview"] == "mensagem 59"
    assert set(body["messages"][0]) >= {"id", "direction", "sender_kind", "kind", "body", "media_url", "ack",
                                        "sent_at", "created_at", "processing_note"}  # fmt: skip
    assert body["facts"] == {"patient_name": "Maria Souza", "symptoms": ["enxaqueca"], "concerns": [],
                             "preferences": {"periodo": "manhã"}, "facts": {}, "intent_type": "SCHEDULE"}  # fmt: skip
    assert body["lead_id"] == lead_id and body["name"] == "Maria" and body["chat_id"] == "5511999990001@c.us"

    everything = secretary_api.get(f"{BASE}/{conversation}", query_string={"messages_limit": 200}, headers=people.ana_h)
    assert len(everything.json["messages"]) == 60 and everything.json["has_more_messages"] is False
    few = secretary_api.get(f"{BASE}/{conversation}", query_string={"messages_limit": 3}, headers=people.ana_h)
    assert [m["body"] for m in few.json["messages"]] == ["mensagem 57", "mensagem 58", "mensagem 59"]
    for bad in (0, 201, "x"):
        response = secretary_api.get(f"{BASE}/{conversation}", query_string={"messages_limit": bad},
                                     headers=people.ana_h)  # fmt: skip
        assert response.status_code == 422


def test_a_new_conversation_has_no_facts_lead_or_messages(secretary_api, admin_h):
    conversation = make_conversation()
    body = secretary_api.get(f"{BASE}/{conversation}", headers=admin_h).json
    assert body["messages"] == [] and body["facts"] is None and body["lead_id"] is None
    assert body["last_message"] is None and body["has_more_messages"] is False
    assert secretary_api.get(f"{BASE}/{uuid.uuid4()}", headers=admin_h).status_code == 404


# Status ----------------------------------------------------------------------------------------------------------


def test_every_transition_is_allowed_or_refused_as_card_102_says(secretary_api, people):
    conversation = make_conversation(assigned_to_user_id=people.ana.id)
    for current in ConversationStatus:
        for wanted in ConversationStatus:
            with session_scope() as session:
                session.get(Conversation, conversation).status = current
            response = secretary_api.patch(f"{BASE}/{conversation}/status", json={"status": wanted.value},
                                           headers=people.ana_h)  # fmt: skip
            if wanted in TRANSITIONS[current]:
                assert response.status_code == 200, (current, wanted, response.json)
                assert response.json["status"] == wanted.value
            else:
                assert response.status_code == 409, (current, wanted)
                assert response.json["type"] == "urn:clinicbot:problem:conflict"
                assert load(conversation).status is current
    allowed_pairs = sum(len(targets) for targets in TRANSITIONS.values())
    assert len(audits(conversation)) == allowed_pairs == 14


def test_a_refused_transition_names_the_allowed_ones_and_an_allowed_one_is_audited(secretary_api, people):
    conversation = make_conversation(status=ConversationStatus.CLOSED, assigned_to_user_id=people.ana.id)

    refused = secretary_api.patch(f"{BASE}/{conversation}/status", json={"status": "TRANSFERRED"},
                                  headers=people.ana_h)  # fmt: skip
    assert refused.status_code == 409 and "allowed: ACTIVE" in refused.json["detail"]
    same = secretary_api.patch(f"{BASE}/{conversation}/status", json={"status": "CLOSED"}, headers=people.ana_h)
    assert same.status_code == 409 and "already CLOSED" in same.json["detail"]
    assert audits(conversation) == []

    reopened = secretary_api.patch(f"{BASE}/{conversation}/status",
                                   json={"status": "ACTIVE", "reason": "Paciente voltou a escrever"},
                                   headers={**people.ana_h, "X-Forwarded-For": "203.0.113.7"})  # fmt: skip
    assert reopened.status_code == 200 and reopened.json["status"] == "ACTIVE"
    [entry] = audits(conversation)
    assert entry.action == "conversation.status_changed" and entry.user_id == people.ana.id
    assert entry.old_value == {"status": "CLOSED"} and entry.new_value == {"status": "ACTIVE"}
    assert entry.reason == "Paciente voltou a escrever" and str(entry.ip_address) == "203.0.113.7"


@pytest.mark.parametrize(
    "body", [{}, {"status": "OPEN"}, {"status": "ACTIVE", "extra": 1}, {"status": "CLOSED", "reason": "x" * 501}]
)
def test_a_bad_status_body_is_422_and_changes_nothing(secretary_api, admin_h, body):
    conversation = make_conversation()
    response = secretary_api.patch(f"{BASE}/{conversation}/status", json=body, headers=admin_h)
    assert response.status_code == 422
    assert load(conversation).status is ConversationStatus.ACTIVE and audits(conversation) == []


# Assignment and claim --------------------------------------------------------------------------------------------


def test_an_admin_assigns_to_an_active_user_who_is_notified(secretary_api, people):
    conversation = make_conversation(name="Maria", is_urgent=True)
    url = f"{BASE}/{conversation}/assign"

    assert secretary_api.post(url, json={"user_id": str(people.ana.id)}, headers=people.ana_h).status_code == 403
    assert secretary_api.post(url, json={"user_id": str(uuid.uuid4())}, headers=people.admin_h).status_code == 422
    with session_scope() as session:
        update_user(session, people.bia.id, UserUpdate(status=UserStatus.INACTIVE), actor=None)
    inactive = secretary_api.post(url, json={"user_id": str(people.bia.id)}, headers=people.admin_h)
    assert inactive.status_code == 422 and inactive.json["errors"][0]["field"] == "user_id"
    assert secretary_api.post(url, json={}, headers=people.admin_h).status_code == 422
    assert load(conversation).assigned_to_user_id is None and audits(conversation) == []

    assigned = secretary_api.post(url, json={"user_id": str(people.ana.id)}, headers=people.admin_h)
    assert assigned.status_code == 200 and assigned.json["assigned_to_user_id"] == str(people.ana.id)
    assert secretary_api.get(f"{BASE}/{conversation}", headers=people.ana_h).status_code == 200
    again = secretary_api.post(url, json={"user_id": str(people.ana.id)}, headers=people.admin_h)
    assert again.status_code == 200
    with session_scope() as session:
        [note] = session.scalars(select(Notification).where(Notification.user_id == people.ana.id)).all()
        assert note.type is NotificationType.ASSIGNMENT and note.conversation_id == conversation
        assert note.priority.value == "HIGH" and "Maria" in note.title
    [entry] = audits(conversation)
    assert entry.action == "conversation.assigned" and entry.user_id == people.admin.id
    assert entry.old_value == {"assigned_to_user_id": None}
    assert entry.new_value == {"assigned_to_user_id": str(people.ana.id)}

    unassigned = secretary_api.post(url, json={"user_id": None}, headers=people.admin_h)
    assert unassigned.status_code == 200 and unassigned.json["assigned_to_user_id"] is None
    assert len(audits(conversation)) == 2


def test_a_user_claims_an_unassigned_conversation_once(secretary_api, people):
    conversation = make_conversation()
    url = f"{BASE}/{conversation}/claim"

    assert secretary_api.get(BASE, headers=people.ana_h).json["total"] == 0  # not hers yet: not listed
    claimed = secretary_api.post(url, headers=people.ana_h)
    assert claimed.status_code == 200 and claimed.json["assigned_to_user_id"] == str(people.ana.id)
    assert secretary_api.post(url, headers=people.ana_h).status_code == 200  # idempotent
    assert [entry.action for entry in audits(conversation)] == ["conversation.claimed"]
    assert ids(secretary_api.get(BASE, headers=people.ana_h)) == [str(conversation)]

    assert secretary_api.post(url, headers=people.bia_h).status_code == 404  # hers now: invisible to bia
    taken = secretary_api.post(url, headers=people.admin_h)
    assert taken.status_code == 409 and taken.json["type"] == "urn:clinicbot:problem:conflict"
    assert load(conversation).assigned_to_user_id == people.ana.id
    assert secretary_api.post(f"{BASE}/{uuid.uuid4()}/claim", headers=people.ana_h).status_code == 404


# The human in the loop -------------------------------------------------------------------------------------------


def test_a_reply_reaches_whatsapp_once_pauses_the_bot_and_resume_bot_hands_back(secretary_api, people, waha):
    conversation = make_conversation("5511999990001", assigned_to_user_id=people.ana.id, messages=("oi",))
    chat = "5511999990001@c.us"
    url = f"{BASE}/{conversation}/messages"
    headers = {**people.ana_h, "Idempotency-Key": "reply-123"}

    first = secretary_api.post(url, json={"text": "Oi! Aqui é a Ana, da recepção."}, headers=headers)
    again = secretary_api.post(url, json={"text": "Oi! Aqui é a Ana, da recepção."}, headers=headers)

    assert first.status_code == 201, first.json
    assert again.status_code == 201 and again.json == first.json
    assert first.headers["Idempotency-Key"] == "reply-123"
    assert (first.headers["Idempotent-Replayed"], again.headers["Idempotent-Replayed"]) == ("false", "true")
    sent = waha.emulator.outbox.list_messages({chat})
    assert [(m["kind"], m["text"]) for m in sent] == [("text", "Oi! Aqui é a Ana, da recepção.")]
    message = first.json
    assert message["direction"] == "OUTBOUND" and message["sender_kind"] == "SECRETARY"
    assert message["sender_user_id"] == str(people.ana.id) and message["sent_at"] is not None
    assert message["ack"] in ("SERVER", "DEVICE", "READ") and [p["id"] for p in message["parts"]] == [message["id"]]
    assert message_count() == 2

    paused = load(conversation)
    assert paused.human_takeover_at is not None
    with session_scope() as session:
        assert silence_reason(session, session.get(Conversation, conversation), get_settings()) == "human_takeover"

    resumed = secretary_api.post(f"{BASE}/{conversation}/resume-bot", headers=people.ana_h)
    assert resumed.status_code == 200 and resumed.json["human_takeover_at"] is None
    assert resumed.json["last_message"]["sender_kind"] == "SECRETARY"
    assert load(conversation).human_takeover_at is None
    with session_scope() as session:  # the secretary's recent message no longer keeps the bot quiet
        assert silence_reason(session, session.get(Conversation, conversation), get_settings()) is None
    [entry] = [entry for entry in audits(conversation) if entry.action == "conversation.bot_resumed"]
    assert entry.new_value == {"human_takeover_at": None} and entry.user_id == people.ana.id
    assert secretary_api.post(f"{BASE}/{conversation}/resume-bot", headers=people.ana_h).status_code == 200


def test_without_a_key_each_post_is_a_new_message(secretary_api, people, waha):
    conversation = make_conversation("5511999990001", assigned_to_user_id=people.ana.id)
    url = f"{BASE}/{conversation}/messages"
    one = secretary_api.post(url, json={"text": "um"}, headers=people.ana_h)
    two = secretary_api.post(url, json={"text": "dois"}, headers=people.ana_h)
    assert one.status_code == two.status_code == 201
    assert one.headers["Idempotency-Key"] != two.headers["Idempotency-Key"]
    assert [m["text"] for m in waha.emulator.outbox.list_messages({"5511999990001@c.us"})] == ["um", "dois"]


def test_a_whatsapp_failure_is_a_502_and_the_same_key_sends_the_stored_message(secretary_api, people, waha):
    conversation = make_conversation("5511999990001", assigned_to_user_id=people.ana.id)
    url = f"{BASE}/{conversation}/messages"
    waha.emulator.faults.configure(fail_next=1, status=500, delay_ms=None, count=None)

    failed = secretary_api.post(url, json={"text": "Confirmado!"}, headers={**people.ana_h, "Idempotency-Key": "k1"})
    assert failed.status_code == 502 and failed.json["type"] == "urn:clinicbot:problem:bad-gateway"
    assert failed.headers["Idempotency-Key"] == "k1" and "k1" in failed.json["detail"]
    with session_scope() as session:
        [stored] = session.scalars(select(ConversationMessage)).all()
        assert stored.body == "Confirmado!" and stored.sent_at is None
    assert waha.emulator.outbox.list_messages() == []

    # The retry sends the stored words, whatever the body now says.
    retried = secretary_api.post(url, json={"text": "Confirmado!"}, headers={**people.ana_h, "Idempotency-Key": "k1"})
    assert retried.status_code == 201 and retried.json["id"] == str(stored.id) and retried.json["sent_at"]
    assert [m["text"] for m in waha.emulator.outbox.list_messages()] == ["Confirmado!"]


def test_a_key_used_on_another_conversation_is_a_conflict(secretary_api, admin_h, waha):
    first = make_conversation("5511999990001")
    second = make_conversation("5511999990002")
    headers = {**admin_h, "Idempotency-Key": "same"}
    assert secretary_api.post(f"{BASE}/{first}/messages", json={"text": "a"}, headers=headers).status_code == 201
    reused = secretary_api.post(f"{BASE}/{second}/messages", json={"text": "b"}, headers=headers)
    assert reused.status_code == 409 and message_count() == 1


def test_an_opted_out_contact_gets_nothing(secretary_api, people, waha):
    conversation = make_conversation(assigned_to_user_id=people.ana.id, opted_out_at=T0)
    response = secretary_api.post(f"{BASE}/{conversation}/messages", json={"text": "oi"}, headers=people.ana_h)
    assert response.status_code == 409 and "opted out" in response.json["detail"]
    assert message_count() == 0 and waha.emulator.outbox.list_messages() == []
    assert load(conversation).human_takeover_at is None


def test_a_template_is_filled_and_a_file_goes_out_as_its_kind(secretary_api, people, waha):
    conversation = make_conversation("5511999990001", assigned_to_user_id=people.ana.id)
    with session_scope() as session:
        session.add(ScriptedMessage(name="boas_vindas", kind=MessageKind.TEXT, body="Olá {{nome}}, tudo bem?"))
    url = f"{BASE}/{conversation}/messages"

    templated = secretary_api.post(url, json={"template": "boas_vindas", "variables": {"nome": "Maria"}},
                                   headers=people.ana_h)  # fmt: skip
    assert templated.status_code == 201, templated.json
    assert templated.json["body"] == "Olá Maria, tudo bem?"
    media = {"url": "https://cdn.example.com/preparo.pdf", "mimetype": "application/pdf",
             "filename": "preparo.pdf", "caption": "Segue o preparo"}  # fmt: skip
    filed = secretary_api.post(url, json={"media": media}, headers=people.ana_h)
    assert filed.status_code == 201 and filed.json["kind"] == "DOCUMENT"
    photo = {"url": "https://cdn.example.com/mapa.jpg", "mimetype": "image/jpeg"}
    assert secretary_api.post(url, json={"media": photo}, headers=people.ana_h).json["kind"] == "IMAGE"

    sent = waha.emulator.outbox.list_messages({"5511999990001@c.us"})
    assert [(m["kind"], m["text"] or m["caption"]) for m in sent] == [
        ("text", "Olá Maria, tudo bem?"),
        ("file", "Segue o preparo"),
        ("image", None),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": "a\x00b"},
        {"text": "x" * 4097},
        {"text": "oi", "template": "boas_vindas"},
        {"text": "oi", "media": {"url": "https://cdn.example.com/a.jpg", "mimetype": "image/jpeg"}},
        {"text": "oi", "variables": {"nome": "Maria"}},
        {"template": "no_such_template"},
        {"template": "boas_vindas"},  # its {{nome}} is missing
        {"template": "boas_vindas", "variables": {"bad name": "x"}},
        {"media": {"url": "not a url", "mimetype": "image/jpeg"}},
        {"media": {"url": "ftp://cdn.example.com/a.jpg", "mimetype": "image/jpeg"}},
        {"media": {"url": "https://cdn.example.com/a.jpg", "mimetype": "jpeg"}},
        {"media": {"url": "https://cdn.example.com/a.jpg"}},
        {"text": "oi", "unknown": True},
    ],
)
def test_a_bad_reply_body_is_422_and_writes_and_sends_nothing(secretary_api, admin_h, waha, body):
    conversation = make_conversation()
    with session_scope() as session:
        session.add(ScriptedMessage(name="boas_vindas", kind=MessageKind.TEXT, body="Olá {{nome}}"))
    response = secretary_api.post(f"{BASE}/{conversation}/messages", json=body, headers=admin_h)
    assert response.status_code == 422, response.json
    assert response.json["type"] == "urn:clinicbot:problem:validation"
    assert message_count() == 0 and waha.emulator.outbox.list_messages() == []
    assert load(conversation).human_takeover_at is None


@pytest.mark.parametrize("key", ["", "has space", "a:b", "x" * 81])
def test_a_bad_idempotency_key_is_422(secretary_api, admin_h, waha, key):
    conversation = make_conversation()
    response = secretary_api.post(f"{BASE}/{conversation}/messages", json={"text": "oi"},
                                  headers={**admin_h, "Idempotency-Key": key})  # fmt: skip
    assert response.status_code == 422 and message_count() == 0


def test_a_second_request_with_a_key_still_in_flight_is_a_conflict(secretary_api, admin_h, waha):
    conversation = make_conversation()
    in_flight = get_redis().lock(key("lock", "secretary-reply", "busy-key"), timeout=30)
    assert in_flight.acquire(blocking=False)
    try:
        response = secretary_api.post(f"{BASE}/{conversation}/messages", json={"text": "oi"},
                                      headers={**admin_h, "Idempotency-Key": "busy-key"})  # fmt: skip
    finally:
        in_flight.release()
    assert response.status_code == 409 and "still running" in response.json["detail"]
    assert message_count() == 0 and waha.emulator.outbox.list_messages() == []


def test_the_openapi_document_describes_the_routes(secretary_api):
    paths = secretary_api.get("/api/v1/openapi.json").json["paths"]
    send = paths[BASE + "/{conversation_id}/messages"]["post"]
    assert "Idempotency-Key" in [parameter["name"] for parameter in send["parameters"]]
    assert {"201", "409", "422", "502"} <= set(send["responses"]) and "requestBody" in send
    listing = paths[BASE]["get"]
    assert {"status", "is_urgent", "assigned_to", "date_from", "date_to", "search", "page", "limit"} <= {
        parameter["name"] for parameter in listing["parameters"]
    }
    for path in ("/{conversation_id}/status", "/{conversation_id}/assign", "/{conversation_id}/claim",
                 "/{conversation_id}/resume-bot", "/{conversation_id}"):  # fmt: skip
        assert BASE + path in paths

"""Edit history (card 123), written by Postgres triggers and attributed to the API's user, and the lead's journey
(card 150): visible only to who sees the lead or conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from shared.audit.history import EditHistory
from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    MessageDirection,
    SenderKind,
)
from shared.db import session_scope
from shared.leads.models import Lead, LeadStatus
from shared.users.models import Role, RolePermission

LEADS = "/api/v1/leads"
CONVERSATIONS = "/api/v1/conversations"
T0 = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)  # before anything the API records now


def _lead(**fields) -> str:
    with session_scope() as session:
        lead = Lead(**({"name": "Maria Oliveira", "phone_number": "5511987654321"} | fields))
        session.add(lead)
        session.flush()
        return str(lead.id)


def _conversation(assignee: uuid.UUID | None = None, phone: str = "5511987654321") -> uuid.UUID:
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, assigned_to_user_id=assignee)
        session.add(conversation)
        session.flush()
        return conversation.id


def _message(conversation_id: uuid.UUID, minutes: float | None, sender: SenderKind, body: str, user=None) -> None:
    """A message `minutes` after T0, or now when None."""
    direction = MessageDirection.INBOUND if sender is SenderKind.PATIENT else MessageDirection.OUTBOUND
    at = {} if minutes is None else {"created_at": T0 + timedelta(minutes=minutes)}
    with session_scope() as session:
        session.add(
            ConversationMessage(
                conversation_id=conversation_id,
                direction=direction,
                sender_kind=sender,
                sender_user_id=user,
                body=body,
                **at,
            )
        )


def _edits(entity_id) -> list[EditHistory]:
    with session_scope() as session:
        return list(session.scalars(select(EditHistory).where(EditHistory.entity_id == uuid.UUID(str(entity_id)))))


def test_an_update_through_the_api_is_recorded_per_field_with_the_secretary_and_her_name(secretary_api, people):
    lead_id = _lead(assigned_to_user_id=people.ana.id, email="old@example.com")
    changed = secretary_api.patch(
        f"{LEADS}/{lead_id}", json={"status": "INTERESTED", "email": "new@example.com"}, headers=people.ana_h
    )
    assert changed.status_code == 200, changed.json

    page = secretary_api.get(f"{LEADS}/{lead_id}/history", headers=people.ana_h).json
    by_field = {item["field"]: item for item in page["items"]}
    assert set(by_field) == {"status", "email"} and page["total"] == 2  # updated_at is not an edit
    assert (by_field["status"]["old_value"], by_field["status"]["new_value"]) == ("NEW", "INTERESTED")
    assert (by_field["email"]["old_value"], by_field["email"]["new_value"]) == ("old@example.com", "new@example.com")
    assert {item["user_id"] for item in page["items"]} == {str(people.ana.id)}
    assert {item["user_name"] for item in page["items"]} == {people.ana.full_name}


def test_the_assistants_changes_have_no_user_and_noise_columns_are_skipped(backends):
    conversation_id = _conversation()
    with session_scope() as session:  # outside any request: the assistant, the intake, a script
        conversation = session.get(Conversation, conversation_id)
        conversation.status = ConversationStatus.WAITING_SECRETARY
        conversation.last_message_at = T0
    with session_scope() as session:
        session.execute(text("UPDATE conversations SET last_message_at = now(), updated_at = now()"))
    edits = _edits(conversation_id)
    assert [(edit.field, edit.old_value, edit.new_value, edit.user_id) for edit in edits] == [
        ("status", "ACTIVE", "WAITING_SECRETARY", None)
    ]
    assert edits[0].entity_type == "conversation"


def test_conversation_history_newest_first_and_only_for_who_sees_it(secretary_api, people):
    conversation_id = _conversation(people.ana.id)
    url = f"{CONVERSATIONS}/{conversation_id}"
    assert (
        secretary_api.patch(f"{url}/status", json={"status": "WAITING_SECRETARY"}, headers=people.ana_h).status_code
        == 200
    )
    assert secretary_api.patch(f"{url}/status", json={"status": "ACTIVE"}, headers=people.ana_h).status_code == 200

    mine = secretary_api.get(f"{url}/history", headers=people.ana_h)
    assert mine.status_code == 200
    assert [(item["old_value"], item["new_value"]) for item in mine.json["items"]] == [
        ("WAITING_SECRETARY", "ACTIVE"),
        ("ACTIVE", "WAITING_SECRETARY"),
    ]
    assert secretary_api.get(f"{url}/history", headers=people.bia_h).status_code == 404
    assert secretary_api.get(f"{url}/history", headers=people.admin_h).json["total"] == 2
    assert secretary_api.get(f"{CONVERSATIONS}/{uuid.uuid4()}/history", headers=people.admin_h).status_code == 404
    paged = secretary_api.get(f"{url}/history?limit=1&page=2", headers=people.admin_h).json
    assert (len(paged["items"]), paged["pages"]) == (1, 2) and paged["items"][0]["new_value"] == "WAITING_SECRETARY"


def test_lead_history_is_hidden_from_another_secretary_and_from_whom_lacks_the_permission(secretary_api, people):
    lead_id = _lead(assigned_to_user_id=people.ana.id)
    assert (
        secretary_api.patch(f"{LEADS}/{lead_id}", json={"name": "Maria O."}, headers=people.admin_h).status_code == 200
    )
    assert secretary_api.get(f"{LEADS}/{lead_id}/history", headers=people.bia_h).status_code == 404
    admin_view = secretary_api.get(f"{LEADS}/{lead_id}/history", headers=people.admin_h).json
    assert [(item["field"], item["user_id"]) for item in admin_view["items"]] == [("name", str(people.admin.id))]
    assert secretary_api.get(f"{LEADS}/{lead_id}/history?limit=0", headers=people.ana_h).status_code == 422
    with session_scope() as session:
        session.add(RolePermission(role=Role.USER, permission="READ_LEADS", granted=False))
    assert secretary_api.get(f"{LEADS}/{lead_id}/history", headers=people.ana_h).status_code == 403
    assert secretary_api.get(f"{LEADS}/{lead_id}/journey", headers=people.ana_h).status_code == 403


def test_erasing_a_lead_erases_its_history_too(backends):
    lead_id = _lead()
    with session_scope() as session:
        session.get(Lead, uuid.UUID(lead_id)).name = "Outra"
    assert len(_edits(lead_id)) == 1
    with session_scope() as session:
        session.execute(text("DELETE FROM leads WHERE id = :id"), {"id": lead_id})
    assert _edits(lead_id) == []


def test_the_journey_is_chronological_timed_and_names_who_did_each_step(secretary_api, people):
    conversation_id = _conversation(people.ana.id)
    _message(conversation_id, 0, SenderKind.PATIENT, "Oi, quero marcar uma consulta")
    _message(conversation_id, 1, SenderKind.BOT, "Claro! Qual o melhor dia?")
    _message(conversation_id, 2, SenderKind.PATIENT, "Segunda")
    lead_id = _lead(conversation_id=conversation_id, created_at=T0 + timedelta(minutes=2, seconds=30))
    assign = secretary_api.patch(
        f"{LEADS}/{lead_id}", json={"assigned_to_user_id": str(people.ana.id)}, headers=people.admin_h
    )
    assert assign.status_code == 200, assign.json
    call = {"interaction_type": "CALL", "notes": "Confirmou"}
    assert secretary_api.post(f"{LEADS}/{lead_id}/interactions", json=call, headers=people.ana_h).status_code == 201
    assert secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "READY"}, headers=people.ana_h).status_code == 200
    assert (
        secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "SCHEDULED"}, headers=people.ana_h).status_code == 200
    )
    _message(conversation_id, None, SenderKind.SECRETARY, "Agendado para segunda às 10h", people.ana.id)

    answer = secretary_api.get(f"{LEADS}/{lead_id}/journey", headers=people.ana_h)
    assert answer.status_code == 200, answer.json
    body = answer.json
    events = [step["event"] for step in body["journey"]]
    assert events == [
        "first_message",
        "message_sent",
        "message_received",
        "lead_created",
        "assigned",
        "interaction",
        "status_changed",
        "converted",
        "message_sent",
    ]
    stamps = [datetime.fromisoformat(step["timestamp"]) for step in body["journey"]]
    assert stamps == sorted(stamps)
    assert body["journey"][0]["seconds_since_previous"] is None
    assert body["journey"][1]["seconds_since_previous"] == 60.0
    assert body["journey"][3]["seconds_since_previous"] == 30.0
    assert body["total_seconds"] == (stamps[-1] - stamps[0]).total_seconds()
    assert datetime.fromisoformat(body["started_at"]) == T0
    first, bot = body["journey"][0], body["journey"][1]
    assert (first["actor"], first["details"], bot["actor"]) == ("patient", "Oi, quero marcar uma consulta", "bot")
    converted = next(step for step in body["journey"] if step["event"] == "converted")
    assert (converted["actor"], converted["user_name"]) == ("secretary", people.ana.full_name)
    sent_by_ana = [s for s in body["journey"] if s["event"] == "message_sent" and s["actor"] == "secretary"]
    assert sent_by_ana[0]["user_id"] == str(people.ana.id)
    call = next(step for step in body["journey"] if step["event"] == "interaction")
    assert call["details"] == "CALL: Confirmou"


def test_the_journey_caps_messages_and_is_only_for_who_sees_the_lead(secretary_api, people):
    conversation_id = _conversation(people.ana.id)
    for minute in range(5):
        _message(conversation_id, minute, SenderKind.PATIENT, f"mensagem {minute}")
    lead_id = _lead(conversation_id=conversation_id, assigned_to_user_id=people.ana.id)
    capped = secretary_api.get(f"{LEADS}/{lead_id}/journey?limit=2", headers=people.ana_h).json
    assert capped["messages_truncated"] is True
    assert [step["details"] for step in capped["journey"][:2]] == ["mensagem 0", "mensagem 1"]
    assert sum(step["event"].startswith(("message", "first")) for step in capped["journey"]) == 2
    full = secretary_api.get(f"{LEADS}/{lead_id}/journey", headers=people.admin_h).json
    assert full["messages_truncated"] is False and len(full["journey"]) == 6
    assert secretary_api.get(f"{LEADS}/{lead_id}/journey", headers=people.bia_h).status_code == 404
    for bad in ("0", "1001", "x"):
        assert secretary_api.get(f"{LEADS}/{lead_id}/journey?limit={bad}", headers=people.ana_h).status_code == 422
    assert secretary_api.get(f"{LEADS}/{uuid.uuid4()}/journey", headers=people.admin_h).status_code == 404
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(EditHistory)) == 0  # reading writes nothing


def test_a_lead_without_a_conversation_has_a_journey_of_its_own_steps(secretary_api, people):
    lead_id = _lead(assigned_to_user_id=people.ana.id, status=LeadStatus.NEW)
    body = secretary_api.get(f"{LEADS}/{lead_id}/journey", headers=people.ana_h).json
    assert [step["event"] for step in body["journey"]] == ["lead_created"]
    assert body["total_seconds"] == 0 and body["messages_truncated"] is False

"""Scheduled messages (card 120): create (past -> 400), list, cancel (own or ADMIN), and nobody else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shared.audit.models import AuditLog
from shared.conversations.models import Conversation
from shared.db import session_scope
from shared.scheduling.models import ScheduledMessage
from shared.users.models import Role
from tests.conftest import bearer

URL = "/api/v1/scheduled-messages"


def later(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(ScheduledMessage))


def test_a_secretary_schedules_lists_and_cancels_her_message(secretary_api, make_user, login):
    ana = bearer(login(make_user(Role.USER))["access_token"])
    body = {"phone": "+55 (11) 99999-8888", "content": "Lembrete: consulta amanhã às 14h", "scheduled_at": later()}
    created = secretary_api.post(URL, json=body, headers=ana)
    assert created.status_code == 201, created.json
    assert (created.json["phone"], created.json["status"]) == ("5511999998888", "PENDING")
    listed = secretary_api.get(URL, headers=ana).json
    assert [item["id"] for item in listed["items"]] == [created.json["id"]] and listed["total"] == 1
    cancelled = secretary_api.post(f"{URL}/{created.json['id']}/cancel", headers=ana)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "CANCELLED"
    assert secretary_api.post(f"{URL}/{created.json['id']}/cancel", headers=ana).status_code == 409
    with session_scope() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.entity_type == "scheduled_message")).all()
    assert actions == ["scheduled_message.cancel"]


def test_a_time_in_the_past_or_without_a_zone_or_a_bad_body_is_refused_and_nothing_is_stored(
    secretary_api, make_user, login
):
    ana = bearer(login(make_user(Role.USER))["access_token"])
    past = secretary_api.post(
        URL, json={"phone": "5511999998888", "content": "x", "scheduled_at": later(-1)}, headers=ana
    )
    assert past.status_code == 400 and "past" in past.json["detail"]
    naive = secretary_api.post(
        URL, json={"phone": "5511999998888", "content": "x", "scheduled_at": "2099-01-01T10:00:00"}, headers=ana
    )
    both = secretary_api.post(URL, json={"content": "x", "scheduled_at": later()}, headers=ana)
    short = secretary_api.post(URL, json={"phone": "12345678", "content": "x", "scheduled_at": later()}, headers=ana)
    assert (naive.status_code, both.status_code, short.status_code) == (422, 422, 400)
    assert count() == 0


def test_someone_elses_scheduled_message_is_not_found_but_an_admin_sees_and_cancels_it(secretary_api, make_user, login):
    ana, bia = (bearer(login(make_user(Role.USER))["access_token"]) for _ in range(2))
    admin = bearer(login(make_user(Role.ADMIN))["access_token"])
    created = secretary_api.post(
        URL, json={"phone": "5511999998888", "content": "x", "scheduled_at": later()}, headers=ana
    ).json
    assert secretary_api.get(f"{URL}/{created['id']}", headers=bia).status_code == 404
    assert secretary_api.post(f"{URL}/{created['id']}/cancel", headers=bia).status_code == 404
    assert secretary_api.get(URL, headers=bia).json["total"] == 0
    assert secretary_api.get(URL, headers=admin).json["total"] == 1
    assert secretary_api.post(f"{URL}/{created['id']}/cancel", headers=admin).json["status"] == "CANCELLED"
    assert secretary_api.get(URL).status_code == 401


def test_a_conversation_must_be_hers_and_its_contact_must_not_have_opted_out(secretary_api, make_user, login):
    user = make_user(Role.USER)
    ana = bearer(login(user)["access_token"])
    with session_scope() as session:
        mine = Conversation(chat_id="5511977776666@c.us", phone_number="5511977776666", assigned_to_user_id=user.id)
        other = Conversation(chat_id="5511966665555@c.us", phone_number="5511966665555")
        gone = Conversation(
            chat_id="5511955554444@c.us",
            phone_number="5511955554444",
            assigned_to_user_id=user.id,
            opted_out_at=datetime.now(UTC),
        )
        session.add_all([mine, other, gone])
        session.flush()
        ids = mine.id, other.id, gone.id
    answers = [
        secretary_api.post(
            URL, json={"conversation_id": str(conversation), "content": "Oi!", "scheduled_at": later()}, headers=ana
        )
        for conversation in ids
    ]
    assert [a.status_code for a in answers] == [201, 404, 409]
    assert answers[0].json["phone"] == "5511977776666" and count() == 1
    # By phone, Brazil's other spelling of the number (without the ninth digit) still finds the opted-out contact.
    by_phone = secretary_api.post(
        URL, json={"phone": "551155554444", "content": "x", "scheduled_at": later()}, headers=ana
    )
    assert by_phone.status_code == 201  # 5555-4444 is a landline spelling: not the same number

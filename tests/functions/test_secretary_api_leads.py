"""Leads through the secretary API: visibility by assignee, filters, the status machine, history and audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.audit.models import AuditLog
from shared.conversations.models import Conversation, ConversationStatus
from shared.db import session_scope
from shared.leads.models import InteractionType, Lead, LeadInteraction, LeadSource, LeadStatus
from shared.users.models import Role, User, UserStatus
from tests.conftest import bearer

LEADS = "/api/v1/leads"
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _lead(minutes: int = 0, **fields) -> str:
    """A lead created `minutes` after T0 (so that tests control the order)."""
    values = {"name": "Maria Oliveira", "phone_number": "5511987654321", "created_at": T0 + timedelta(minutes=minutes)}
    with session_scope() as session:
        lead = Lead(**(values | fields))
        session.add(lead)
        session.flush()
        return str(lead.id)


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _stored(lead_id: str) -> Lead:
    with session_scope() as session:
        return session.get(Lead, uuid.UUID(lead_id))


def _interactions(lead_id: str) -> list[LeadInteraction]:
    with session_scope() as session:
        return list(session.scalars(select(LeadInteraction).where(LeadInteraction.lead_id == uuid.UUID(lead_id))))


def _audit_actions(lead_id: str) -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(AuditLog.action).where(AuditLog.entity_id == lead_id)))


@pytest.fixture
def admin(make_user, login):
    user = make_user(Role.ADMIN)
    return user, bearer(login(user)["access_token"])


@pytest.fixture
def secretary(make_user, login):
    user = make_user(Role.USER)
    return user, bearer(login(user)["access_token"])


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_no_token_gets_401_on_every_leads_route(secretary_api, backends):
    lead_id = _lead()
    for method, path in [
        ("get", LEADS),
        ("post", LEADS),
        ("get", f"{LEADS}/{lead_id}"),
        ("patch", f"{LEADS}/{lead_id}"),
        ("post", f"{LEADS}/{lead_id}/interactions"),
        ("delete", f"{LEADS}/{lead_id}"),
        ("post", f"{LEADS}/{lead_id}/restore"),
    ]:
        response = getattr(secretary_api, method)(path, json={})
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"


def test_listing_is_newest_first_paginated_and_hides_deleted_leads(secretary_api, admin):
    _, headers = admin
    oldest, middle, newest = _lead(0), _lead(1), _lead(2)
    _lead(3, deleted_at=T0)

    first = secretary_api.get(f"{LEADS}?limit=2", headers=headers)
    second = secretary_api.get(f"{LEADS}?limit=2&page=2", headers=headers)

    assert _ids(first) == [newest, middle] and _ids(second) == [oldest]
    assert first.json["total"] == 3 and first.json["pages"] == 2 and first.json["page"] == 1
    item = first.json["items"][0]
    assert set(item) == {
        "id",
        "conversation_id",
        "name",
        "phone_number",
        "email",
        "status",
        "source",
        "maturity_score",
        "notes",
        "assigned_to_user_id",
        "converted_at",
        "created_at",
        "updated_at",
    }
    assert datetime.fromisoformat(item["created_at"]) == T0 + timedelta(minutes=2)  # aware: ends in Z


def test_filters_by_status_source_maturity_search_and_assignee(secretary_api, admin, secretary):
    _, headers = admin
    user, _ = secretary
    new = _lead(0, status=LeadStatus.NEW, maturity_score=10, name="Ana Souza", phone_number="5511911112222")
    ready = _lead(1, status=LeadStatus.READY, maturity_score=80, source=LeadSource.MANUAL, assigned_to_user_id=user.id)
    lost = _lead(2, status=LeadStatus.LOST, maturity_score=50, name="100%_real", phone_number="5521933334444")

    def ids(query: str) -> set[str]:
        return set(_ids(secretary_api.get(f"{LEADS}?{query}", headers=headers)))

    assert ids("status=NEW") == {new}
    assert ids("status=NEW&status=READY") == ids("status=NEW,READY") == {new, ready}
    assert ids("source=MANUAL") == {ready}
    assert ids("min_maturity=50") == {ready, lost}
    assert ids("min_maturity=20&max_maturity=60") == {lost}
    assert ids("max_maturity=50") == {new, lost}
    assert ids("search=ana") == {new}
    assert ids("search=(21) 93333") == {lost}
    assert ids("search=0%25_") == {lost}  # % and _ are matched literally
    assert ids(f"assigned_to={user.id}") == {ready}
    assert ids("unassigned=true") == {new, lost}


@pytest.mark.parametrize(
    "query",
    [
        "min_maturity=60&max_maturity=50",
        "max_maturity=101",
        "min_maturity=-1",
        "status=WON",
        "source=FAX",
        "assigned_to=not-a-uuid",
        "limit=0",
        "search=%20%20",
    ],
)
def test_bad_filters_are_422_problems(secretary_api, admin, query):
    response = secretary_api.get(f"{LEADS}?{query}", headers=admin[1])

    assert response.status_code == 422, query
    assert response.mimetype == "application/problem+json" and response.json["errors"]


def test_a_user_sees_only_her_leads_and_others_answer_404(secretary_api, admin, make_user, login):
    ana, bia = make_user(Role.USER), make_user(Role.USER)
    ana_headers, bia_headers = bearer(login(ana)["access_token"]), bearer(login(bia)["access_token"])
    anas, bias, nobodys = _lead(0, assigned_to_user_id=ana.id), _lead(1, assigned_to_user_id=bia.id), _lead(2)

    assert _ids(secretary_api.get(LEADS, headers=ana_headers)) == [anas]
    assert _ids(secretary_api.get(f"{LEADS}?assigned_to={ana.id}", headers=ana_headers)) == [anas]
    assert set(_ids(secretary_api.get(LEADS, headers=admin[1]))) == {anas, bias, nobodys}
    assert secretary_api.get(f"{LEADS}?assigned_to={bia.id}", headers=ana_headers).status_code == 403
    assert secretary_api.get(f"{LEADS}?unassigned=true", headers=ana_headers).status_code == 403
    for lead_id in (bias, nobodys):
        assert secretary_api.get(f"{LEADS}/{lead_id}", headers=ana_headers).status_code == 404
        patched = secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "LOST"}, headers=ana_headers)
        noted = secretary_api.post(
            f"{LEADS}/{lead_id}/interactions", json={"interaction_type": "NOTE", "notes": "x"}, headers=ana_headers
        )
        assert patched.status_code == noted.status_code == 404
        assert patched.json["detail"] == "Lead not found"
    assert secretary_api.get(f"{LEADS}/{bias}", headers=bia_headers).status_code == 200
    assert secretary_api.get(f"{LEADS}/{bias}", headers=admin[1]).status_code == 200
    assert _stored(bias).status is LeadStatus.NEW and _count(LeadInteraction) == 0


def test_detail_has_the_conversation_and_interactions_newest_first(secretary_api, secretary):
    user, headers = secretary
    with session_scope() as session:
        conversation = Conversation(
            chat_id="5511987654321@c.us",
            phone_number="5511987654321",
            is_urgent=True,
            status=ConversationStatus.WAITING_SECRETARY,
            last_message_at=T0,
        )
        session.add(conversation)
        session.flush()
        conversation_id = str(conversation.id)
    lead_id = _lead(assigned_to_user_id=user.id, conversation_id=uuid.UUID(conversation_id))
    with session_scope() as session:
        for minutes, kind in enumerate([InteractionType.ASSIGNMENT, InteractionType.CALL, InteractionType.NOTE]):
            session.add(
                LeadInteraction(
                    lead_id=uuid.UUID(lead_id),
                    interaction_type=kind,
                    notes=kind.value,
                    created_at=T0 + timedelta(minutes=minutes),
                )
            )

    response = secretary_api.get(f"{LEADS}/{lead_id}", headers=headers)
    bare = secretary_api.get(f"{LEADS}/{_lead(1, assigned_to_user_id=user.id)}", headers=headers)

    assert response.status_code == 200
    assert response.json["conversation"] == {
        "id": conversation_id,
        "chat_id": "5511987654321@c.us",
        "status": "WAITING_SECRETARY",
        "is_urgent": True,
        "last_message_at": "2026-03-02T12:00:00Z",
    }
    assert [item["interaction_type"] for item in response.json["interactions"]] == ["NOTE", "CALL", "ASSIGNMENT"]
    assert bare.json["conversation"] is None and bare.json["interactions"] == []


def test_patch_records_status_assignment_and_note_interactions_and_audits(secretary_api, admin, make_user):
    actor, headers = admin
    bia = make_user(Role.USER)
    lead_id = _lead(notes="old note")

    response = secretary_api.patch(
        f"{LEADS}/{lead_id}",
        headers=headers,
        json={
            "status": "INTERESTED",
            "assigned_to_user_id": str(bia.id),
            "notes": "quer manhã",
            "email": "Maria@X.com",
            "name": "Maria O.",
        },
    )

    assert response.status_code == 200, response.json
    assert response.json["status"] == "INTERESTED" and response.json["assigned_to_user_id"] == str(bia.id)
    assert response.json["notes"] == "quer manhã" and response.json["email"] == "maria@x.com"
    assert response.json["name"] == "Maria O." and response.json["updated_at"] > response.json["created_at"]
    by_type = {item.interaction_type: item for item in _interactions(lead_id)}
    assert set(by_type) == {InteractionType.STATUS_CHANGE, InteractionType.ASSIGNMENT, InteractionType.NOTE}
    assert by_type[InteractionType.STATUS_CHANGE].details == {"from": "NEW", "to": "INTERESTED"}
    assert by_type[InteractionType.ASSIGNMENT].details == {"from": None, "to": str(bia.id)}
    assert by_type[InteractionType.NOTE].notes == "quer manhã"
    assert by_type[InteractionType.NOTE].details == {"previous": "old note"}
    assert all(item.user_id == actor.id for item in by_type.values())
    assert _audit_actions(lead_id) == ["lead.assigned", "lead.status_changed"]
    with session_scope() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "lead.status_changed")).one()
    assert (entry.old_value, entry.new_value, entry.user_id) == ({"status": "NEW"}, {"status": "INTERESTED"}, actor.id)


def test_unchanged_values_record_nothing(secretary_api, secretary):
    user, headers = secretary
    lead_id = _lead(assigned_to_user_id=user.id, notes="same")

    response = secretary_api.patch(
        f"{LEADS}/{lead_id}",
        headers=headers,
        json={"status": "NEW", "notes": "same", "assigned_to_user_id": str(user.id)},
    )

    assert response.status_code == 200
    assert _count(LeadInteraction) == _count(AuditLog, AuditLog.entity_type == "lead") == 0


def test_scheduling_sets_converted_at_and_a_no_show_can_be_lost_then_reopened(secretary_api, secretary):
    user, headers = secretary
    lead_id = _lead(status=LeadStatus.READY, assigned_to_user_id=user.id)

    scheduled = secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "SCHEDULED"}, headers=headers)
    lost = secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "LOST"}, headers=headers)
    reopened = secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "NEW"}, headers=headers)

    assert scheduled.status_code == lost.status_code == reopened.status_code == 200
    assert scheduled.json["converted_at"] is not None and reopened.json["status"] == "NEW"
    assert _count(LeadInteraction, LeadInteraction.interaction_type == InteractionType.STATUS_CHANGE) == 3


@pytest.mark.parametrize(
    ("current", "target"), [("READY", "ENGAGED"), ("SCHEDULED", "READY"), ("LOST", "SCHEDULED"), ("INTERESTED", "NEW")]
)
def test_a_forbidden_transition_is_409_naming_the_allowed_moves_and_writes_nothing(
    secretary_api, admin, make_user, current, target
):
    lead_id = _lead(status=LeadStatus(current), notes="before")
    bia = make_user(Role.USER)

    response = secretary_api.patch(
        f"{LEADS}/{lead_id}",
        headers=admin[1],
        json={"status": target, "notes": "after", "assigned_to_user_id": str(bia.id)},
    )

    assert response.status_code == 409
    assert "allowed:" in response.json["detail"]
    stored = _stored(lead_id)
    assert stored.status is LeadStatus(current) and stored.notes == "before" and stored.assigned_to_user_id is None
    assert _count(LeadInteraction) == _count(AuditLog, AuditLog.entity_type == "lead") == 0


def test_only_an_admin_reassigns_and_only_to_an_active_user(secretary_api, admin, secretary, make_user):
    user, headers = secretary
    other = make_user(Role.USER)
    with session_scope() as session:
        gone = User(email="gone@example.com", full_name="Gone", password_hash="x", status=UserStatus.INACTIVE)
        session.add(gone)
        session.flush()
        gone_id = str(gone.id)
    lead_id = _lead(assigned_to_user_id=user.id)

    by_user = secretary_api.patch(f"{LEADS}/{lead_id}", json={"assigned_to_user_id": str(other.id)}, headers=headers)
    to_inactive = secretary_api.patch(f"{LEADS}/{lead_id}", json={"assigned_to_user_id": gone_id}, headers=admin[1])
    to_nobody = secretary_api.patch(
        f"{LEADS}/{lead_id}", json={"assigned_to_user_id": str(uuid.uuid4())}, headers=admin[1]
    )

    assert by_user.status_code == 403
    assert to_inactive.status_code == to_nobody.status_code == 422
    assert to_inactive.json["errors"][0]["field"] == "assigned_to_user_id"
    assert _stored(lead_id).assigned_to_user_id == user.id and _count(LeadInteraction) == 0

    unassigned = secretary_api.patch(f"{LEADS}/{lead_id}", json={"assigned_to_user_id": None}, headers=admin[1])

    assert unassigned.status_code == 200 and unassigned.json["assigned_to_user_id"] is None
    assert [item.details for item in _interactions(lead_id)] == [{"from": str(user.id), "to": None}]
    assert secretary_api.get(f"{LEADS}/{lead_id}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": None},
        {"status": "WON"},
        {"name": "  "},
        {"email": "nope"},
        {"maturity_score": 90},
        {"assigned_to_user_id": "x"},
        {"notes": "x" * 5001},
    ],
)
def test_bad_patch_bodies_are_422_and_write_nothing(secretary_api, admin, body):
    lead_id = _lead()

    response = secretary_api.patch(f"{LEADS}/{lead_id}", json=body, headers=admin[1])

    assert response.status_code == 422, body
    stored = _stored(lead_id)
    assert (stored.status, stored.name, stored.email, stored.notes) == (LeadStatus.NEW, "Maria Oliveira", None, None)
    assert _count(LeadInteraction) == _count(AuditLog, AuditLog.entity_type == "lead") == 0


def test_malformed_json_is_400(secretary_api, admin):
    lead_id = _lead()

    response = secretary_api.patch(
        f"{LEADS}/{lead_id}", data='{"status": ', headers=admin[1], content_type="application/json"
    )

    assert response.status_code == 400 and _stored(lead_id).status is LeadStatus.NEW


def test_posting_interactions(secretary_api, secretary):
    user, headers = secretary
    lead_id = _lead(assigned_to_user_id=user.id)
    url = f"{LEADS}/{lead_id}/interactions"

    call = secretary_api.post(
        url, json={"interaction_type": "CALL", "notes": " Ligar após 14h ", "details": {"minutes": 4}}, headers=headers
    )
    system_made = [
        secretary_api.post(url, json={"interaction_type": kind, "notes": "x"}, headers=headers)
        for kind in ("STATUS_CHANGE", "ASSIGNMENT")
    ]
    blank = secretary_api.post(url, json={"interaction_type": "NOTE", "notes": "   "}, headers=headers)
    huge = secretary_api.post(
        url, json={"interaction_type": "NOTE", "notes": "x", "details": {"x": "y" * 10_001}}, headers=headers
    )

    assert call.status_code == 201, call.json
    assert call.json["interaction_type"] == "CALL" and call.json["notes"] == "Ligar após 14h"
    assert call.json["user_id"] == str(user.id) and call.json["lead_id"] == lead_id
    assert call.json["details"] == {"minutes": 4}
    assert [r.status_code for r in system_made] == [422, 422]
    assert blank.status_code == huge.status_code == 422
    assert _count(LeadInteraction) == 1
    detail = secretary_api.get(f"{LEADS}/{lead_id}", headers=headers).json
    assert [item["id"] for item in detail["interactions"]] == [call.json["id"]]


def test_soft_delete_and_restore(secretary_api, admin, secretary):
    user, user_headers = secretary
    headers = admin[1]
    lead_id = _lead(assigned_to_user_id=user.id)

    by_user = secretary_api.delete(f"{LEADS}/{lead_id}", headers=user_headers)
    restore_live = secretary_api.post(f"{LEADS}/{lead_id}/restore", headers=headers)
    deleted = secretary_api.delete(f"{LEADS}/{lead_id}", headers=headers)

    assert by_user.status_code == 403 and restore_live.status_code == 409
    assert deleted.status_code == 204 and deleted.data == b""
    assert _stored(lead_id).deleted_at is not None  # the row stays
    for h in (headers, user_headers):
        assert _ids(secretary_api.get(LEADS, headers=h)) == []
        assert secretary_api.get(f"{LEADS}/{lead_id}", headers=h).status_code == 404
        assert secretary_api.patch(f"{LEADS}/{lead_id}", json={"status": "LOST"}, headers=h).status_code == 404
        assert (
            secretary_api.post(
                f"{LEADS}/{lead_id}/interactions", json={"interaction_type": "NOTE", "notes": "x"}, headers=h
            ).status_code
            == 404
        )
    assert secretary_api.delete(f"{LEADS}/{lead_id}", headers=headers).status_code == 404
    assert secretary_api.post(f"{LEADS}/{lead_id}/restore", headers=user_headers).status_code == 403

    restored = secretary_api.post(f"{LEADS}/{lead_id}/restore", headers=headers)

    assert restored.status_code == 200 and restored.json["id"] == lead_id
    assert _ids(secretary_api.get(LEADS, headers=user_headers)) == [lead_id]
    assert _audit_actions(lead_id) == ["lead.deleted", "lead.restored"]
    assert secretary_api.delete(f"{LEADS}/{uuid.uuid4()}", headers=headers).status_code == 404
    assert secretary_api.post(f"{LEADS}/{uuid.uuid4()}/restore", headers=headers).status_code == 404


def test_a_user_creates_a_manual_lead_assigned_to_herself(secretary_api, secretary):
    user, headers = secretary

    response = secretary_api.post(
        LEADS,
        headers=headers,
        json={"name": " Joana ", "phone_number": "+55 (11) 98765-4321", "email": "Joana@Example.com"},
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert (body["name"], body["phone_number"], body["email"]) == ("Joana", "5511987654321", "joana@example.com")
    assert (body["status"], body["source"], body["maturity_score"]) == ("NEW", "MANUAL", 0)
    assert body["assigned_to_user_id"] == str(user.id) and body["conversation_id"] is None
    assert _ids(secretary_api.get(LEADS, headers=headers)) == [body["id"]]
    assert _audit_actions(body["id"]) == ["lead.created"]


def test_an_admin_creates_a_lead_for_a_secretary_or_for_nobody(secretary_api, admin, secretary, make_user):
    user, user_headers = secretary
    body = {"name": "Caio", "phone_number": "11 91234-5678", "source": "REFERRAL", "maturity_score": 70}

    for_user = secretary_api.post(LEADS, json=body | {"assigned_to_user_id": str(user.id)}, headers=admin[1])
    for_nobody = secretary_api.post(LEADS, json=body, headers=admin[1])
    user_for_other = secretary_api.post(
        LEADS, json=body | {"assigned_to_user_id": str(make_user().id)}, headers=user_headers
    )

    assert for_user.status_code == for_nobody.status_code == 201
    assert for_user.json["assigned_to_user_id"] == str(user.id) and for_user.json["source"] == "REFERRAL"
    assert for_nobody.json["assigned_to_user_id"] is None and for_nobody.json["phone_number"] == "11912345678"
    assert [item.details for item in _interactions(for_user.json["id"])] == [{"from": None, "to": str(user.id)}]
    assert user_for_other.status_code == 403
    assert _count(Lead) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"phone_number": "11912345678"},
        {"name": "Ana"},
        {"name": "Ana", "phone_number": "1234"},
        {"name": "Ana", "phone_number": "ligar depois"},
        {"name": "", "phone_number": "11912345678"},
        {"name": "Ana", "phone_number": "11912345678", "maturity_score": 101},
        {"name": "Ana", "phone_number": "11912345678", "status": "READY"},
        {"name": "Ana", "phone_number": "11912345678", "assigned_to_user_id": str(uuid.uuid4())},
    ],
)
def test_bad_create_bodies_are_422_and_write_nothing(secretary_api, admin, body):
    response = secretary_api.post(LEADS, json=body, headers=admin[1])

    assert response.status_code == 422, body
    assert response.mimetype == "application/problem+json"
    assert _count(Lead) == _count(AuditLog, AuditLog.entity_type == "lead") == 0


def test_the_leads_routes_are_documented(secretary_api):
    paths = secretary_api.get("/api/v1/openapi.json").json["paths"]

    assert set(paths[LEADS]) == {"get", "post"}
    assert set(paths[f"{LEADS}/{{lead_id}}"]) == {"get", "patch", "delete"}
    assert "requestBody" in paths[f"{LEADS}/{{lead_id}}/interactions"]["post"]
    assert "409" in paths[f"{LEADS}/{{lead_id}}"]["patch"]["responses"]

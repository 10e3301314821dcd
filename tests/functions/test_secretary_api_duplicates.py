"""Duplicate leads by phone number, ninth digit and formatting aside (card 124): listing, notifying, merging."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from shared.audit.history import EditHistory
from shared.audit.models import AuditLog
from shared.conversations.models import Conversation
from shared.db import session_scope
from shared.leads.models import InteractionType, Lead, LeadInteraction, LeadStatus
from shared.notifications.models import Notification
from shared.users.models import Role, RolePermission

LEADS = "/api/v1/leads"
DUPLICATES = f"{LEADS}/duplicates"
MERGE = f"{LEADS}/merge"


def _lead(phone: str, **fields) -> str:
    with session_scope() as session:
        lead = Lead(**({"name": "Maria Oliveira", "phone_number": phone} | fields))
        session.add(lead)
        session.flush()
        return str(lead.id)


def _stored(lead_id: str) -> Lead:
    with session_scope() as session:
        return session.get(Lead, uuid.UUID(lead_id))


def _count(model, *where) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_every_spelling_of_one_number_is_one_group_and_other_numbers_are_not(secretary_api, people):
    spellings = ["+55 (11) 98765-4321", "5511987654321", "11 8765-4321", "(11) 98765 4321"]
    ids = []
    for spelling in spellings:
        created = secretary_api.post(LEADS, json={"name": "Maria", "phone_number": spelling}, headers=people.admin_h)
        assert created.status_code == 201, created.json
        ids.append(created.json["id"])
    _lead("5521999990000")  # another number, alone
    _lead("5511987654321", deleted_at=_stored(ids[0]).created_at)  # deleted: never a duplicate

    page = secretary_api.get(DUPLICATES, headers=people.admin_h).json
    assert page["total"] == 1 and page["pages"] == 1
    group = page["items"][0]
    assert group["phone_key"] == "551187654321"
    assert [lead["id"] for lead in group["leads"]] == ids  # oldest first


def test_a_secretary_sees_only_groups_among_her_own_leads(secretary_api, people):
    _lead("5511987654321", assigned_to_user_id=people.ana.id)
    _lead("11987654321", assigned_to_user_id=people.ana.id)
    _lead("551187654321", assigned_to_user_id=people.bia.id)
    _lead("5521988887777", assigned_to_user_id=people.bia.id)
    _lead("21 8888-7777", assigned_to_user_id=people.ana.id)

    ana = secretary_api.get(DUPLICATES, headers=people.ana_h).json
    assert [len(group["leads"]) for group in ana["items"]] == [2]
    assert {lead["assigned_to_user_id"] for lead in ana["items"][0]["leads"]} == {str(people.ana.id)}
    assert secretary_api.get(DUPLICATES, headers=people.bia_h).json["total"] == 0
    everyone = secretary_api.get(DUPLICATES, headers=people.admin_h).json
    assert sorted(len(group["leads"]) for group in everyone["items"]) == [2, 3]
    assert secretary_api.get(f"{DUPLICATES}?limit=1&page=2", headers=people.admin_h).json["items"][0]["phone_key"]
    assert secretary_api.get(f"{DUPLICATES}?limit=101", headers=people.admin_h).status_code == 422


def test_a_new_lead_with_a_known_number_notifies_the_secretary_of_the_other_once(secretary_api, people):
    _lead("5511987654321", assigned_to_user_id=people.ana.id)
    created = secretary_api.post(
        LEADS, json={"name": "Maria", "phone_number": "(11) 8765-4321"}, headers=people.bia_h
    ).json
    with session_scope() as session:
        notes = session.scalars(select(Notification)).all()
    assert [(note.user_id, str(note.lead_id)) for note in notes] == [(people.ana.id, created["id"])]
    assert "duplicado" in notes[0].title

    secretary_api.post(LEADS, json={"name": "Outro", "phone_number": "5531977776666"}, headers=people.bia_h)
    assert _count(Notification) == 1  # a new number: nobody to tell


def test_a_duplicate_of_an_unassigned_lead_notifies_the_admins(secretary_api, people):
    _lead("5511987654321")
    secretary_api.post(LEADS, json={"name": "Maria", "phone_number": "11 98765-4321"}, headers=people.ana_h)
    with session_scope() as session:
        assert session.scalars(select(Notification.user_id)).all() == [people.admin.id]


def test_merge_moves_everything_fills_the_gaps_and_soft_deletes_the_source(secretary_api, people):
    with session_scope() as session:
        conversation = Conversation(chat_id="5511987654321@c.us", phone_number="5511987654321")
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    source = _lead(
        "5511987654321",
        email="maria@example.com",
        maturity_score=80,
        conversation_id=conversation_id,
        assigned_to_user_id=people.ana.id,
        notes="Prefere manhã",
    )
    target = _lead("11 8765-4321", name="Maria O.", maturity_score=30, status=LeadStatus.INTERESTED)
    with session_scope() as session:
        session.add(LeadInteraction(lead_id=uuid.UUID(source), interaction_type=InteractionType.CALL, notes="Ligou"))
    earlier = _lead("551187654321", deleted_at=_stored(source).created_at, merged_into_id=uuid.UUID(source))

    merged = secretary_api.post(MERGE, json={"source_id": source, "target_id": target}, headers=people.admin_h)
    assert merged.status_code == 200, merged.json
    lead = merged.json["lead"]
    assert (lead["id"], lead["name"], lead["email"], lead["maturity_score"]) == (
        target,
        "Maria O.",
        "maria@example.com",
        80,
    )
    assert (lead["status"], lead["notes"], lead["assigned_to_user_id"]) == (
        "INTERESTED",
        "Prefere manhã",
        str(people.ana.id),
    )
    assert lead["conversation_id"] == str(conversation_id)
    assert merged.json["moved"] == {"lead_interactions.lead_id": 1, "leads.merged_into_id": 1}

    gone = _stored(source)
    assert gone.deleted_at is not None and str(gone.merged_into_id) == target and gone.conversation_id is None
    assert str(_stored(earlier).merged_into_id) == target  # an earlier merge now points at the survivor
    with session_scope() as session:
        kinds = session.scalars(
            select(LeadInteraction.interaction_type).where(LeadInteraction.lead_id == uuid.UUID(target))
        ).all()
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "lead.merge")).one()
        source_edits = session.scalars(select(EditHistory.field).where(EditHistory.entity_id == uuid.UUID(source)))
        assert {"deleted_at", "merged_into_id", "conversation_id"} <= set(source_edits)
    assert sorted(kinds) == [InteractionType.CALL, InteractionType.NOTE]
    assert audit.entity_id == target and audit.user_id == people.admin.id
    assert audit.old_value["source"]["deleted_at"] is None and audit.new_value["source"]["deleted_at"] is not None
    assert audit.old_value["target"]["email"] is None and audit.new_value["target"]["email"] == "maria@example.com"

    assert secretary_api.get(f"{LEADS}/{source}", headers=people.admin_h).status_code == 404
    journey = secretary_api.get(f"{LEADS}/{target}/journey", headers=people.admin_h).json["journey"]
    events = [step["event"] for step in journey]
    assert events.count("lead_created") == 3 and "merged" in events and "interaction" in events
    history = secretary_api.get(f"{LEADS}/{target}/history", headers=people.admin_h).json["items"]
    assert {item["entity_id"] for item in history} == {source, target, earlier}  # earlier: re-pointed


def test_merge_refuses_other_numbers_the_same_lead_and_what_the_caller_cannot_see(secretary_api, people):
    first = _lead("5511987654321")
    other_number = _lead("5511912345678")
    deleted = _lead("11 8765-4321", deleted_at=_stored(first).created_at)
    before = _count(AuditLog), _count(LeadInteraction)

    refused = secretary_api.post(MERGE, json={"source_id": first, "target_id": other_number}, headers=people.admin_h)
    assert refused.status_code == 409
    same = secretary_api.post(MERGE, json={"source_id": first, "target_id": first}, headers=people.admin_h)
    assert same.status_code == 422
    gone = secretary_api.post(MERGE, json={"source_id": deleted, "target_id": first}, headers=people.admin_h)
    assert gone.status_code == 404
    unknown = secretary_api.post(
        MERGE, json={"source_id": str(uuid.uuid4()), "target_id": first}, headers=people.admin_h
    )
    assert unknown.status_code == 404
    for body in ({"source_id": first}, {"source_id": "x", "target_id": first}, {**{"source_id": first}, "x": 1}):
        assert secretary_api.post(MERGE, json=body, headers=people.admin_h).status_code == 422
    assert secretary_api.post(MERGE, json={"source_id": first, "target_id": other_number}).status_code == 401
    assert (_count(AuditLog), _count(LeadInteraction)) == before
    assert _stored(first).deleted_at is None and _stored(other_number).deleted_at is None


def test_merging_needs_the_permission_and_then_only_ones_own_leads(secretary_api, people):
    mine = _lead("5511987654321", assigned_to_user_id=people.ana.id)
    also_mine = _lead("11987654321", assigned_to_user_id=people.ana.id)
    hers = _lead("551187654321", assigned_to_user_id=people.bia.id)
    body = {"source_id": also_mine, "target_id": mine}
    assert secretary_api.post(MERGE, json=body, headers=people.ana_h).status_code == 403

    with session_scope() as session:
        session.add(RolePermission(role=Role.USER, permission="MERGE_LEADS", granted=True))
    assert (
        secretary_api.post(MERGE, json={"source_id": hers, "target_id": mine}, headers=people.ana_h).status_code == 404
    )
    assert _stored(hers).deleted_at is None
    merged = secretary_api.post(MERGE, json=body, headers=people.ana_h)
    assert merged.status_code == 200 and merged.json["merged_lead_id"] == also_mine
    assert secretary_api.get(DUPLICATES, headers=people.ana_h).json["total"] == 0

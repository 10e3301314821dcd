"""One walk over every operation of the OpenAPI document, as two secretaries and an ADMIN (issue 5's acceptance).

Ana owns a fresh set of items for every call: a conversation with a message, its lead, a note, a tag on it, a
scheduled message and a notification. Then, for each operation:
- OWNED (the path names one of Ana's items): Bia gets 404 and changes nothing; Ana and an ADMIN succeed;
- LISTED (a collection): everyone succeeds, and nothing of Ana's appears in Bia's answer, while Ana's does;
- ADMIN (a permission a USER lacks by default): both secretaries get 403; an ADMIN succeeds;
- PERSONAL (the path names something of Ana's own account, a notification): Bia and an ADMIN get 404;
- SELF (the caller's own account, or what every user shares): everyone succeeds.
"Succeeds" is a 2xx, except where an operation names the answer an ADMIN gets for a state of the world (a claim of
Ana's conversation is 409 for anyone but Ana): what matters here is that the ADMIN reached the item.
An operation of the document missing from OPERATIONS fails the walk, so a new route must say who may use it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shared.conversations.models import (
    Conversation,
    ConversationMessage,
    ConversationNote,
    ConversationTag,
    MessageDirection,
    SenderKind,
    Tag,
)
from shared.db import session_scope
from shared.leads.models import Lead
from shared.notifications.models import Notification, NotificationType
from shared.scheduling.models import ScheduledMessage
from shared.templates.models import MessageTemplate, QuickReply, ScriptedMessage
from shared.users.models import Role, User
from shared.users.permissions import DEFAULT_GRANTS
from shared.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.conftest import bearer
from tests.functions.test_route_walk import PUBLIC, operations

OWNED, LISTED, ADMIN, PERSONAL, SELF = "owned", "listed", "admin", "personal", "self"
WORD = "clareamento"  # in Ana's message, for search


@dataclass
class World:
    """Ana's items, fresh for one call, and a spare user that ADMIN-only user routes may change."""

    conversation_id: uuid.UUID
    lead_id: uuid.UUID
    note_id: uuid.UUID
    tag_id: uuid.UUID
    scheduled_id: uuid.UUID
    notification_id: uuid.UUID
    phone: str
    user_id: uuid.UUID
    template_id: uuid.UUID
    script_id: uuid.UUID
    quick_reply_id: uuid.UUID
    webhook_id: uuid.UUID
    delivery_id: uuid.UUID

    def ids(self) -> list[str]:
        return [str(self.conversation_id), str(self.lead_id), str(self.note_id), str(self.scheduled_id),
                str(self.notification_id)]  # fmt: skip


@dataclass
class Op:
    kind: str
    body: Callable[[World], dict] | None = None
    query: Callable[[World], str] = lambda w: ""
    prepare: Callable[[World], None] = lambda w: None
    params: dict[str, Callable[[World], object]] = field(default_factory=dict)
    admin_status: int | None = None  # the answer an ADMIN gets when it is not a 2xx, and why, beside the entry


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


def _delete_lead(world: World) -> None:
    with session_scope() as session:
        session.get(Lead, world.lead_id).deleted_at = datetime.now(UTC)


def _twin_id(world: World) -> uuid.UUID:
    return uuid.uuid5(world.lead_id, "twin")


def _add_twin_lead(world: World) -> None:
    """Ana's second lead for the same number, written without the ninth digit: a duplicate."""
    with session_scope() as session:
        lead = session.get(Lead, world.lead_id)
        session.add(Lead(id=_twin_id(world), name=lead.name, phone_number=lead.phone_number[:4] + lead.phone_number[5:],
                         assigned_to_user_id=lead.assigned_to_user_id))  # fmt: skip


def _user_defaults(world: World) -> dict:
    return {"permissions": sorted(p.value for p in DEFAULT_GRANTS[Role.USER])}


C = "/api/v1/conversations/{conversation_id}"
OPERATIONS: dict[tuple[str, str], Op] = {
    ("post", "/api/v1/auth/logout"): Op(SELF),
    ("get", "/api/v1/auth/me"): Op(SELF),
    ("get", "/api/v1/users"): Op(ADMIN),
    ("post", "/api/v1/users"): Op(ADMIN, body=lambda w: {"email": f"n-{uuid.uuid4().hex[:8]}@example.com",
                                                          "full_name": "Nova", "password": "senha-forte-1"}),
    ("get", "/api/v1/users/{user_id}"): Op(ADMIN),
    ("patch", "/api/v1/users/{user_id}"): Op(ADMIN, body=lambda w: {"full_name": "Outro Nome"}),
    ("post", "/api/v1/users/{user_id}/deactivate"): Op(ADMIN),
    ("get", "/api/v1/permissions"): Op(ADMIN),
    ("get", "/api/v1/roles/{role}/permissions"): Op(ADMIN, params={"role": lambda w: "USER"}),
    ("put", "/api/v1/roles/{role}/permissions"): Op(ADMIN, body=_user_defaults, params={"role": lambda w: "USER"}),
    # The emulator's session is already paired, so there is no QR code: a 400 that only an ADMIN can reach.
    ("get", "/api/v1/waha/sessions/{name}/qr"): Op(ADMIN, params={"name": lambda w: "default"}, admin_status=400),
    ("get", "/api/v1/waha/sessions/{name}"): Op(ADMIN, params={"name": lambda w: "default"}),
    ("put", "/api/v1/waha/sessions/{name}"): Op(ADMIN, params={"name": lambda w: "default"}),
    ("post", "/api/v1/waha/sessions/{name}/restart"): Op(ADMIN, params={"name": lambda w: "default"}),
    ("get", "/api/v1/queue/stats"): Op(ADMIN),
    ("get", "/api/v1/queue/failed"): Op(ADMIN),
    ("post", "/api/v1/queue/retry-failed"): Op(ADMIN, body=lambda w: {"job_ids": [str(uuid.uuid4())]}),
    ("delete", "/api/v1/queue/clear-failed"): Op(ADMIN),
    ("get", "/api/v1/jobs"): Op(ADMIN),
    ("get", "/api/v1/conversations"): Op(LISTED),
    ("get", C): Op(OWNED),
    ("patch", C + "/status"): Op(OWNED, body=lambda w: {"status": "CLOSED", "reason": "resolvido"}),
    ("post", C + "/assign"): Op(ADMIN, body=lambda w: {"user_id": str(w.user_id)}),
    ("post", C + "/claim"): Op(OWNED, admin_status=409),  # Ana's already: an ADMIN reassigns instead
    ("post", C + "/messages"): Op(OWNED, body=lambda w: {"text": "Oi, aqui é da clínica"}),
    ("post", C + "/resume-bot"): Op(OWNED),
    ("get", "/api/v1/leads"): Op(LISTED),
    ("post", "/api/v1/leads"): Op(LISTED, body=lambda w: {"name": "Nova Paciente",
                                                          "phone_number": f"55119{uuid.uuid4().int % 10**8:08d}"}),
    ("get", "/api/v1/leads/{lead_id}"): Op(OWNED),
    ("patch", "/api/v1/leads/{lead_id}"): Op(OWNED, body=lambda w: {"notes": "Prefere manhã"}),
    ("delete", "/api/v1/leads/{lead_id}"): Op(ADMIN),
    ("post", "/api/v1/leads/{lead_id}/interactions"): Op(
        OWNED, body=lambda w: {"interaction_type": "CALL", "notes": "Ligou de volta"}
    ),
    ("post", "/api/v1/leads/{lead_id}/restore"): Op(ADMIN, prepare=_delete_lead),
    ("get", "/api/v1/leads/{lead_id}/history"): Op(OWNED),
    ("get", "/api/v1/leads/{lead_id}/journey"): Op(OWNED),
    ("get", C + "/history"): Op(OWNED),
    ("get", "/api/v1/leads/duplicates"): Op(LISTED, prepare=_add_twin_lead),
    ("post", "/api/v1/leads/merge"): Op(ADMIN, prepare=_add_twin_lead, body=lambda w: {
        "source_id": str(_twin_id(w)), "target_id": str(w.lead_id)}),
    ("get", "/api/v1/notifications"): Op(LISTED),
    ("put", "/api/v1/notifications/{notification_id}/read"): Op(PERSONAL),
    ("put", "/api/v1/notifications/read-all"): Op(SELF),
    ("get", "/api/v1/scheduled-messages"): Op(LISTED),
    ("post", "/api/v1/scheduled-messages"): Op(LISTED, body=lambda w: {"phone": "5511988887777", "content": "Oi",
                                                                       "scheduled_at": _future()}),
    ("get", "/api/v1/scheduled-messages/{scheduled_id}"): Op(OWNED),
    ("post", "/api/v1/scheduled-messages/{scheduled_id}/cancel"): Op(OWNED),
    ("get", "/api/v1/audit-logs"): Op(ADMIN),
    ("get", "/api/v1/ai/stats"): Op(ADMIN),
    ("get", "/api/v1/feedback"): Op(ADMIN),
    ("get", "/api/v1/privacy/contacts/{phone}/export"): Op(ADMIN),
    ("delete", "/api/v1/privacy/contacts/{phone}"): Op(ADMIN),
    ("get", "/api/v1/tags"): Op(SELF),
    ("post", "/api/v1/tags"): Op(ADMIN, body=lambda w: {"name": f"tag-{uuid.uuid4().hex[:8]}"}),
    ("delete", "/api/v1/tags/{tag_id}"): Op(ADMIN),
    ("get", C + "/tags"): Op(OWNED),
    ("post", C + "/tags"): Op(OWNED, body=lambda w: {"tag_id": str(w.tag_id)}),
    ("delete", C + "/tags/{tag_id}"): Op(OWNED),
    ("get", C + "/notes"): Op(OWNED),
    ("post", C + "/notes"): Op(OWNED, body=lambda w: {"body": "Paciente prefere WhatsApp"}),
    ("patch", C + "/notes/{note_id}"): Op(OWNED, body=lambda w: {"body": "Atualizada"}),
    ("delete", C + "/notes/{note_id}"): Op(OWNED),
    ("get", "/api/v1/conversations/search"): Op(LISTED, query=lambda w: f"?q={WORD}"),
    ("get", "/api/v1/conversations/export"): Op(LISTED, query=lambda w: "?format=csv"),
    # The clinic's templates, scripts and quick replies are shared by the team; filling one for a conversation
    # reads that conversation, so it follows the conversation's owner.
    ("get", "/api/v1/templates"): Op(SELF),
    ("post", "/api/v1/templates"): Op(ADMIN, body=lambda w: {"name": f"t-{uuid.uuid4().hex[:8]}",
                                                              "content": "Olá {{nome}}"}),
    ("get", "/api/v1/templates/{template_id}"): Op(SELF),
    ("patch", "/api/v1/templates/{template_id}"): Op(ADMIN, body=lambda w: {"content": "Oi {{nome}}!"}),
    ("delete", "/api/v1/templates/{template_id}"): Op(ADMIN),
    ("post", "/api/v1/templates/{template_id}/render"): Op(OWNED, body=lambda w: {
        "conversation_id": str(w.conversation_id), "variables": {"data": "15/03"}}),
    ("get", "/api/v1/scripted-messages"): Op(SELF),
    ("post", "/api/v1/scripted-messages"): Op(ADMIN, body=lambda w: {"name": f"s-{uuid.uuid4().hex[:8]}",
                                                                      "kind": "TEXT", "body": "Bem-vinda!"}),
    ("get", "/api/v1/scripted-messages/{script_id}"): Op(SELF),
    ("patch", "/api/v1/scripted-messages/{script_id}"): Op(ADMIN, body=lambda w: {"body": "Olá de novo"}),
    ("delete", "/api/v1/scripted-messages/{script_id}"): Op(ADMIN),
    ("get", "/api/v1/quick-replies"): Op(SELF),
    ("get", "/api/v1/quick-replies/suggestions"): Op(OWNED, query=lambda w: f"?conversation_id={w.conversation_id}"),
    ("post", "/api/v1/quick-replies"): Op(ADMIN, body=lambda w: {"title": "Preço", "response": "Custa R$ 150",
                                                                  "contexts": ["preco"]}),
    ("get", "/api/v1/quick-replies/{quick_reply_id}"): Op(SELF),
    ("patch", "/api/v1/quick-replies/{quick_reply_id}"): Op(ADMIN, body=lambda w: {"title": "Valores"}),
    ("delete", "/api/v1/quick-replies/{quick_reply_id}"): Op(ADMIN),
    ("post", "/api/v1/quick-replies/{quick_reply_id}/use"): Op(OWNED, body=lambda w: {
        "conversation_id": str(w.conversation_id)}),
    ("post", "/api/v1/webhooks"): Op(ADMIN, body=lambda w: {"url": "http://127.0.0.1:9/hook",
                                                             "events": ["lead.created"]}),
    ("get", "/api/v1/webhooks"): Op(ADMIN),
    ("get", "/api/v1/webhooks/{webhook_id}"): Op(ADMIN),
    ("patch", "/api/v1/webhooks/{webhook_id}"): Op(ADMIN, body=lambda w: {"description": "CRM"}),
    ("delete", "/api/v1/webhooks/{webhook_id}"): Op(ADMIN),
    ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"): Op(ADMIN),
    ("post", "/api/v1/webhooks/{webhook_id}/ping"): Op(ADMIN),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): Op(ADMIN),
    ("post", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver"): Op(ADMIN),
    # Issue 11: clinic settings and the metrics. A USER's numbers are her own (SELF: nothing of Ana's in Bia's);
    # one named user's numbers, money, ranking and anomalies are ADMIN's (the walk's user is neither secretary).
    ("get", "/api/v1/clinic/settings"): Op(ADMIN),
    ("put", "/api/v1/clinic/settings"): Op(ADMIN, body=lambda w: {"sla_seconds": 300}),
    **{("get", f"/api/v1/metrics/{name}"): Op(SELF) for name in (
        "message-volume", "heatmap", "peak-hours", "response-time", "sla-compliance", "bot-response-rate",
        "conversion-rate", "funnel", "leads-by-source", "lead-retention", "maturity-distribution",
        "abandonment-rate", "nps", "sentiment", "topics", "competitor-mentions", "ai", "forecast", "my")},
    **{("get", f"/api/v1/metrics/{name}"): Op(ADMIN) for name in ("cost-per-lead", "roi", "ltv", "leaderboard")},
    ("get", "/api/v1/metrics/user/{user_id}"): Op(ADMIN),
    ("get", "/api/v1/metrics/compare"): Op(SELF, query=lambda w: "?period1_start=2026-10-01&period1_end=2026-10-31"
                                                              "&period2_start=2026-11-01&period2_end=2026-11-30"),
    ("get", "/api/v1/metrics/export"): Op(SELF, query=lambda w: "?format=csv"),
    ("get", "/api/v1/reports/productivity"): Op(SELF),
    ("get", "/api/v1/alerts/anomalies"): Op(ADMIN),
    ("get", "/api/v1/dashboard/summary"): Op(SELF),
    ("get", "/api/v1/dashboard/live"): Op(SELF),
    ("post", "/api/v1/dashboard/stream-ticket"): Op(SELF),
    ("get", "/api/v1/dashboard/stream"): Op(SELF),  # walkers ends each stream after a second
}  # fmt: skip


def make_world(ana: User, admin: User) -> World:
    """Ana's items, written straight to the database."""
    phone = f"551198{uuid.uuid4().int % 10**7:07d}"  # a mobile: its ninth digit may be left out
    now = datetime.now(UTC)
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, name="Paciente da Ana",
                                    assigned_to_user_id=ana.id, last_message_at=now)  # fmt: skip
        session.add(conversation)
        session.flush()
        session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                        sender_kind=SenderKind.PATIENT, body=f"Quanto custa o {WORD}?"))  # fmt: skip
        lead = Lead(conversation_id=conversation.id, name="Paciente da Ana", phone_number=phone,
                    assigned_to_user_id=ana.id)  # fmt: skip
        note = ConversationNote(conversation_id=conversation.id, user_id=ana.id, body="Nota da Ana")
        tag = Tag(name=f"t-{uuid.uuid4().hex[:8]}", name_key=f"t-{uuid.uuid4().hex[:8]}", created_by_user_id=admin.id)
        scheduled = ScheduledMessage(user_id=ana.id, conversation_id=conversation.id, phone=phone,
                                     content="Lembrete", scheduled_at=now + timedelta(days=1))  # fmt: skip
        session.add_all([lead, note, tag, scheduled])
        session.flush()
        session.add(ConversationTag(conversation_id=conversation.id, tag_id=tag.id, tagged_by_user_id=ana.id))
        notification = Notification(user_id=ana.id, type=NotificationType.NEW_LEAD, title="Novo lead",
                                    message="Paciente da Ana", lead_id=lead.id)  # fmt: skip
        spare = User(email=f"spare-{uuid.uuid4().hex[:8]}@example.com", full_name="Spare", password_hash="x")
        unique = uuid.uuid4().hex[:8]
        template = MessageTemplate(name=f"t-{unique}", name_key=f"t-{unique}", content="Olá {{nome}}, dia {{data}}",
                                   variables=["nome", "data"], created_by_user_id=admin.id)  # fmt: skip
        script = ScriptedMessage(name=f"s-{unique}", kind="TEXT", body="Olá {{nome}}", created_by_user_id=admin.id)
        reply = QuickReply(title="Agendar", response="Vamos agendar, {{nome}}?", contexts=["agendamento"],
                           created_by_user_id=admin.id)  # fmt: skip
        hook = WebhookEndpoint(url="http://127.0.0.1:9/hook", events=["message.received"], secret="whsec_x",
                               created_by_user_id=admin.id)  # fmt: skip
        session.add_all([notification, spare, template, script, reply, hook])
        session.flush()
        delivery = WebhookDelivery(
            endpoint_id=hook.id,
            event="conversation.closed",
            event_id=uuid.uuid4(),
            payload={},
            status=DeliveryStatus.FAILED,
            attempt_count=8,
            attempt_limit=8,
        )
        session.add(delivery)
        session.flush()
        return World(conversation.id, lead.id, note.id, tag.id, scheduled.id, notification.id, phone, spare.id,
                     template.id, script.id, reply.id, hook.id, delivery.id)  # fmt: skip


def concrete(path: str, world: World, op: Op) -> str:
    values = {"conversation_id": world.conversation_id, "lead_id": world.lead_id, "note_id": world.note_id,
              "tag_id": world.tag_id, "scheduled_id": world.scheduled_id, "notification_id": world.notification_id,
              "phone": world.phone, "user_id": world.user_id, "template_id": world.template_id,
              "script_id": world.script_id, "quick_reply_id": world.quick_reply_id, "webhook_id": world.webhook_id,
              "delivery_id": world.delivery_id}  # fmt: skip
    values |= {name: make(world) for name, make in op.params.items()}
    return path.format(**{name: str(value) for name, value in values.items()}) + op.query(world)


def call(client, method: str, path: str, headers: dict, world: World, op: Op):
    body = op.body(world) if op.body else None
    headers = headers | {"Idempotency-Key": uuid.uuid4().hex}
    return client.open(concrete(path, world, op), method=method.upper(), json=body, headers=headers)


def snapshot(world: World) -> str:
    """Everything Ana's items hold, to show that a refused call changed nothing."""
    with session_scope() as session:
        rows = [session.get(model, key) for model, key in ((Conversation, world.conversation_id),
                (Lead, world.lead_id), (ConversationNote, world.note_id), (ScheduledMessage, world.scheduled_id),
                (Notification, world.notification_id))]  # fmt: skip
        tags = session.scalars(select(ConversationTag.tag_id).where(ConversationTag.conversation_id
                                                                    == world.conversation_id)).all()  # fmt: skip
        messages = session.scalars(select(ConversationMessage.id).where(ConversationMessage.conversation_id
                                                                        == world.conversation_id)).all()  # fmt: skip
        state = [{c.key: getattr(row, c.key) for c in row.__table__.columns} for row in rows if row is not None]
        return json.dumps([state, sorted(map(str, tags)), sorted(map(str, messages))], default=str, sort_keys=True)


def ok(response) -> bool:
    return 200 <= response.status_code < 300


@pytest.fixture
def walkers(gateway, people, live_waha, settings_env):
    settings_env(WAHA_WEBHOOK_URL="http://127.0.0.1:8080/api/v1/webhooks/waha", STREAM_MAX_SECONDS="1")
    return SimpleNamespace(client=gateway, people=people)


def test_nothing_of_the_document_is_missing_from_the_walk(gateway):
    document = gateway.get("/api/v1/openapi.json").json
    documented = {operation for operation in operations(document) if operation not in PUBLIC}
    assert documented - set(OPERATIONS) == set(), "operations nobody walked"
    assert set(OPERATIONS) - documented == set(), "walked operations the document no longer has"


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=lambda o: f"{o[0].upper()} {o[1]}")
def test_a_secretary_never_reaches_anothers_items_and_an_admin_reaches_all(walkers, operation):
    method, path = operation
    op, client, people = OPERATIONS[operation], walkers.client, walkers.people
    if op.kind == SELF and path == "/api/v1/auth/logout":
        return _walk_logout(client, people)

    world = make_world(people.ana, people.admin)
    op.prepare(world)
    before = snapshot(world)
    as_bia = call(client, method, path, people.bia_h, world, op)
    if op.kind in (OWNED, PERSONAL):
        assert as_bia.status_code == 404, (as_bia.status_code, as_bia.json)
        assert snapshot(world) == before, "a refused call changed Ana's items"
    elif op.kind == ADMIN:
        assert as_bia.status_code == 403, (as_bia.status_code, as_bia.json)
        assert snapshot(world) == before, "a refused call changed Ana's items"
        as_ana = call(client, method, path, people.ana_h, world, op)
        assert as_ana.status_code == 403, (as_ana.status_code, as_ana.json)
    else:
        assert ok(as_bia), (as_bia.status_code, as_bia.json)
        assert not any(item in as_bia.get_data(as_text=True) for item in world.ids()), "Bia saw Ana's item"

    if op.kind in (OWNED, PERSONAL, LISTED):
        as_ana = call(client, method, path, people.ana_h, world, op)
        assert ok(as_ana), (as_ana.status_code, as_ana.json)
        if op.kind == LISTED and method == "get":
            assert any(item in as_ana.get_data(as_text=True) for item in world.ids()), "Ana missed her own item"

    fresh = make_world(people.ana, people.admin)
    op.prepare(fresh)
    as_admin = call(client, method, path, people.admin_h, fresh, op)
    if op.kind == PERSONAL:
        assert as_admin.status_code == 404, (as_admin.status_code, as_admin.json)
    elif op.admin_status is not None:
        assert as_admin.status_code == op.admin_status, (as_admin.status_code, as_admin.json)
    else:
        assert ok(as_admin), (as_admin.status_code, as_admin.json)


def _walk_logout(client, people) -> None:
    """Logging out ends only the caller's own login: the others' tokens keep working."""
    for name in ("bia", "ana", "admin"):
        headers = getattr(people, f"{name}_h")
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    still = client.post("/api/v1/auth/login", json={"email": people.ana.email, "password": "correct-horse-battery"})
    assert client.get("/api/v1/auth/me", headers=bearer(still.json["access_token"])).status_code == 200

"""Message templates (card 121), scripted messages (cards 086, 087) and quick replies (card 122) through the
secretary API: CRUD, uniqueness, placeholder checks, rendering, permissions, visibility and suggestions."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.assistant.models import LLMInteraction, LLMProvider
from shared.audit.models import AuditLog
from shared.conversations.models import (
    Conversation,
    ConversationContext,
    ConversationMessage,
    MessageDirection,
    SenderKind,
)
from shared.db import session_scope
from shared.templates.models import MessageMedia, MessageTemplate, QuickReply, ScriptedMessage
from shared.templates.service import template_drafts
from shared.users.models import Role, RolePermission

TEMPLATES, SCRIPTS, REPLIES = "/api/v1/templates", "/api/v1/scripted-messages", "/api/v1/quick-replies"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIRM = {"name": "Confirmação Consulta", "content": "Olá {{nome}}, confirmamos sua consulta para {{data}}."}


def make_conversation(phone: str, owner=None, messages: tuple[str, ...] = (), name: str | None = "Maria") -> uuid.UUID:
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, name=name,
                                    assigned_to_user_id=owner.id if owner else None)  # fmt: skip
        session.add(conversation)
        session.flush()
        for i, body in enumerate(messages):
            session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                            sender_kind=SenderKind.PATIENT, body=body,
                                            created_at=T0 + timedelta(minutes=i)))  # fmt: skip
        return conversation.id


def audits(action: str) -> list[AuditLog]:
    with session_scope() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def grant(role: Role, permission: str, granted: bool = True) -> None:
    with session_scope() as session:
        session.add(RolePermission(role=role, permission=permission, granted=granted))


# --- message templates ------------------------------------------------------------------------------------------


def test_template_crud_derives_variables_and_is_audited(secretary_api, people):
    created = secretary_api.post(TEMPLATES, json={**CONFIRM, "category": "agendamento"}, headers=people.admin_h)
    assert created.status_code == 201, created.json
    assert created.json["variables"] == ["nome", "data"]
    assert created.json["created_by_user_id"] == str(people.admin.id)
    url = f"{TEMPLATES}/{created.json['id']}"
    assert secretary_api.get(url, headers=people.ana_h).json["name"] == "Confirmação Consulta"

    edited = secretary_api.patch(url, json={"content": "Oi {{ nome }}, até {{hora}}!", "category": None},
                                 headers=people.admin_h)  # fmt: skip
    assert edited.status_code == 200, edited.json
    assert edited.json["variables"] == ["nome", "hora"] and edited.json["category"] is None
    [entry] = audits("message_template.updated")
    assert entry.old_value["content"] == CONFIRM["content"] and entry.new_value["category"] is None
    assert audits("message_template.created")[0].new_value["name"] == "Confirmação Consulta"

    assert secretary_api.delete(url, headers=people.admin_h).status_code == 204
    assert audits("message_template.deleted")[0].old_value["content"] == "Oi {{ nome }}, até {{hora}}!"
    assert secretary_api.get(url, headers=people.admin_h).status_code == 404
    assert secretary_api.delete(url, headers=people.admin_h).status_code == 404


def test_template_names_are_unique_regardless_of_case_and_spaces(secretary_api, people):
    assert secretary_api.post(TEMPLATES, json=CONFIRM, headers=people.admin_h).status_code == 201
    again = secretary_api.post(TEMPLATES, json={**CONFIRM, "name": "  confirmação   CONSULTA "}, headers=people.admin_h)
    assert again.status_code == 409 and again.json["status"] == 409
    other = secretary_api.post(TEMPLATES, json={**CONFIRM, "name": "Outro"}, headers=people.admin_h).json
    renamed = secretary_api.patch(f"{TEMPLATES}/{other['id']}", json={"name": "CONFIRMAÇÃO CONSULTA"},
                                  headers=people.admin_h)  # fmt: skip
    assert renamed.status_code == 409
    assert count(MessageTemplate) == 2


def test_template_listing_filters_and_paginates(secretary_api, people):
    for name, category in (("Boas-vindas", "geral"), ("Confirmação", "Agendamento"), ("Lembrete", "agendamento")):
        body = {"name": name, "content": f"{name} {{{{nome}}}}", "category": category}
        assert secretary_api.post(TEMPLATES, json=body, headers=people.admin_h).status_code == 201
    secretary_api.post(TEMPLATES, json={"name": "Antigo", "content": "x", "is_active": False}, headers=people.admin_h)

    listing = secretary_api.get(f"{TEMPLATES}?category=agendamento&limit=1", headers=people.ana_h).json
    assert listing["total"] == 2 and listing["pages"] == 2 and [t["name"] for t in listing["items"]] == ["Confirmação"]
    found = secretary_api.get(f"{TEMPLATES}?search=lembr", headers=people.ana_h).json
    assert [t["name"] for t in found["items"]] == ["Lembrete"]
    inactive = secretary_api.get(f"{TEMPLATES}?is_active=false", headers=people.ana_h).json
    assert [t["name"] for t in inactive["items"]] == ["Antigo"]
    assert secretary_api.get(f"{TEMPLATES}?search=%25", headers=people.ana_h).json["total"] == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Olá {{ nome", "not closed"),
        ("Olá {{}}", "empty placeholder"),
        ("Olá {{ }}", "empty placeholder"),
        ("Olá {{nome-completo}}", "invalid variable name"),
        ("Olá {{ endereço }}", "invalid variable name"),
        ("Olá nome}}", "closes no placeholder"),
    ],
)
def test_malformed_placeholders_are_422_naming_the_problem(secretary_api, people, content, problem):
    answer = secretary_api.post(TEMPLATES, json={"name": "X", "content": content}, headers=people.admin_h)
    assert answer.status_code == 422
    [error] = answer.json["errors"]
    assert error["field"] == "content" and problem in error["message"]
    assert count(MessageTemplate) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X"},
        {"name": "", "content": "x"},
        {"name": "   ", "content": "x"},
        {"name": "X", "content": "a\x00b"},
        {"name": "x" * 121, "content": "x"},
        {"name": "X", "content": "x" * 4097},
        {"name": "X", "content": "x", "category": "c" * 51},
        {"name": "X", "content": "x", "extra": 1},
    ],
)
def test_bad_templates_are_422_and_write_nothing(secretary_api, people, body):
    answer = secretary_api.post(TEMPLATES, json=body, headers=people.admin_h)
    assert answer.status_code == 422 and answer.json["status"] == 422
    assert count(MessageTemplate) == 0


def test_a_bad_patch_changes_nothing(secretary_api, people):
    created = secretary_api.post(TEMPLATES, json=CONFIRM, headers=people.admin_h).json
    url = f"{TEMPLATES}/{created['id']}"
    assert secretary_api.patch(url, json={"content": "{{oops"}, headers=people.admin_h).status_code == 422
    assert secretary_api.patch(url, json={"name": "a\x00"}, headers=people.admin_h).status_code == 422
    assert secretary_api.get(url, headers=people.admin_h).json["content"] == CONFIRM["content"]
    assert audits("message_template.updated") == []
    unknown = secretary_api.patch(f"{TEMPLATES}/{uuid.uuid4()}", json={"name": "Y"}, headers=people.admin_h)
    assert unknown.status_code == 404


def test_rendering_fills_conversation_values_and_lists_missing_ones(secretary_api, people, settings_env):
    settings_env(CLINIC_NAME="Clínica Sorriso")
    cid = make_conversation("5511900000001", people.ana)
    body = {"name": "Lembrete", "content": "Oi {{nome}} ({{telefone}}), a {{clinica}} te espera em {{data}}."}
    template = secretary_api.post(TEMPLATES, json=body, headers=people.admin_h).json
    url = f"{TEMPLATES}/{template['id']}/render"

    rendered = secretary_api.post(url, json={"conversation_id": str(cid), "variables": {"data": "15/03"}},
                                  headers=people.ana_h)  # fmt: skip
    assert rendered.status_code == 200, rendered.json
    assert rendered.json["content"] == "Oi Maria (5511900000001), a Clínica Sorriso te espera em 15/03."
    assert rendered.json["variables"]["clinica"] == "Clínica Sorriso"

    missing = secretary_api.post(url, json={"variables": {"nome": "Rita"}}, headers=people.ana_h)
    assert missing.status_code == 422
    assert missing.json["errors"] == [{"field": "variables", "message": "missing: telefone, data"}]

    given_wins = secretary_api.post(url, json={"conversation_id": str(cid), "variables": {"nome": "Dona Maria",
                                    "data": 15}}, headers=people.ana_h)  # fmt: skip
    assert given_wins.json["content"].startswith("Oi Dona Maria") and given_wins.json["content"].endswith("em 15.")


def test_rendering_someone_elses_conversation_is_404(secretary_api, people):
    cid = make_conversation("5511900000002", people.ana)
    template = secretary_api.post(TEMPLATES, json=CONFIRM, headers=people.admin_h).json
    url = f"{TEMPLATES}/{template['id']}/render"
    body = {"conversation_id": str(cid), "variables": {"data": "amanhã"}}
    assert secretary_api.post(url, json=body, headers=people.bia_h).status_code == 404
    assert secretary_api.post(url, json={**body, "conversation_id": str(uuid.uuid4())},
                              headers=people.ana_h).status_code == 404  # fmt: skip
    assert secretary_api.post(url, json=body, headers=people.admin_h).status_code == 200  # ADMIN sees all
    assert secretary_api.post(url, json={"variables": {"x": "a\x00"}}, headers=people.ana_h).status_code == 422
    assert secretary_api.post(url, json={"variables": {"bad-name": "a"}}, headers=people.ana_h).status_code == 422


def test_an_inactive_template_does_not_render(secretary_api, people):
    body = {**CONFIRM, "is_active": False}
    template = secretary_api.post(TEMPLATES, json=body, headers=people.admin_h).json
    answer = secretary_api.post(f"{TEMPLATES}/{template['id']}/render", json={"variables": {"nome": "a", "data": "b"}},
                                headers=people.ana_h)  # fmt: skip
    assert answer.status_code == 409


def test_managing_needs_manage_templates_and_reading_use_templates(secretary_api, people):
    template = secretary_api.post(TEMPLATES, json=CONFIRM, headers=people.admin_h).json
    url = f"{TEMPLATES}/{template['id']}"
    assert secretary_api.post(TEMPLATES, json={**CONFIRM, "name": "Y"}, headers=people.ana_h).status_code == 403
    assert secretary_api.patch(url, json={"name": "Y"}, headers=people.ana_h).status_code == 403
    assert secretary_api.delete(url, headers=people.ana_h).status_code == 403
    assert secretary_api.get(url, headers=people.ana_h).status_code == 200

    grant(Role.USER, "MANAGE_TEMPLATES")
    assert secretary_api.patch(url, json={"name": "Y"}, headers=people.ana_h).status_code == 200
    grant(Role.USER, "USE_TEMPLATES", granted=False)  # a revocation overrides the default
    assert secretary_api.get(url, headers=people.bia_h).status_code == 403
    assert secretary_api.get(TEMPLATES, headers=people.bia_h).status_code == 403
    assert secretary_api.get(url).status_code == 401
    assert count(MessageTemplate) == 1


# --- scripted messages ------------------------------------------------------------------------------------------

IMAGE = {"url": "https://cdn.example.com/a.jpg", "mimetype": "image/jpeg", "caption": "Oi {{nome}}"}


def test_script_crud_keeps_file_order_and_feeds_the_assistant(secretary_api, people):
    media = [IMAGE, {"url": "https://cdn.example.com/b.png", "mimetype": "image/png"}]
    created = secretary_api.post(SCRIPTS, json={"name": "fotos", "kind": "IMAGE", "body": "Da {{clinica}}",
                                               "media": media}, headers=people.admin_h)  # fmt: skip
    assert created.status_code == 201, created.json
    assert created.json["variables"] == ["clinica", "nome"]
    url = f"{SCRIPTS}/{created.json['id']}"

    reversed_media = list(reversed(media))
    edited = secretary_api.patch(url, json={"media": reversed_media}, headers=people.admin_h)
    assert edited.status_code == 200, edited.json
    assert [m["url"] for m in edited.json["media"]] == [m["url"] for m in reversed_media]
    with session_scope() as session:
        drafts = template_drafts(session, "fotos", {"nome": "Rita", "clinica": "Sol"})
    assert [d.media_url for d in drafts] == [m["url"] for m in reversed_media]
    assert [d.body for d in drafts] == ["Da Sol", "Oi Rita"]  # the body captions the first file without one
    assert count(MessageMedia) == 2

    [entry] = audits("scripted_message.updated")
    assert entry.old_value["media"][0]["url"] == media[0]["url"]
    assert secretary_api.get(f"{SCRIPTS}?kind=IMAGE", headers=people.ana_h).json["total"] == 1
    assert secretary_api.delete(url, headers=people.admin_h).status_code == 204
    assert count(MessageMedia) == 0 and audits("scripted_message.deleted")[0].old_value["name"] == "fotos"


def test_location_scripts_and_kind_changes(secretary_api, people):
    place = {"latitude": -23.5614141, "longitude": -46.655881, "name": "Clínica"}
    created = secretary_api.post(SCRIPTS, json={"name": "como_chegar", "kind": "LOCATION", "location": place},
                                 headers=people.admin_h)  # fmt: skip
    assert created.status_code == 201, created.json
    assert created.json["location"]["latitude"] == "-23.561414"
    url = f"{SCRIPTS}/{created.json['id']}"
    moved = secretary_api.patch(url, json={"location": {**place, "latitude": 10}}, headers=people.admin_h)
    assert moved.status_code == 200 and moved.json["location"]["latitude"] == "10.000000"

    # Becoming a TEXT drops the place, but a TEXT needs a body.
    assert secretary_api.patch(url, json={"kind": "TEXT"}, headers=people.admin_h).status_code == 422
    text = secretary_api.patch(url, json={"kind": "TEXT", "body": "Av. Paulista, 1000"}, headers=people.admin_h)
    assert text.status_code == 200 and text.json["location"] is None and text.json["kind"] == "TEXT"


def test_script_names_are_unique(secretary_api, people):
    body = {"name": "boas_vindas", "kind": "TEXT", "body": "Olá!"}
    assert secretary_api.post(SCRIPTS, json=body, headers=people.admin_h).status_code == 201
    assert secretary_api.post(SCRIPTS, json={**body, "name": "Boas_Vindas"}, headers=people.admin_h).status_code == 409
    other = secretary_api.post(SCRIPTS, json={**body, "name": "outro"}, headers=people.admin_h).json
    renamed = secretary_api.patch(f"{SCRIPTS}/{other['id']}", json={"name": "boas_vindas"}, headers=people.admin_h)
    assert renamed.status_code == 409
    assert count(ScriptedMessage) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "TEXT"}, "body"),
        ({"kind": "TEXT", "body": "x", "media": [IMAGE]}, "media"),
        ({"kind": "IMAGE", "body": "x"}, "media"),
        ({"kind": "IMAGE", "media": [{**IMAGE, "mimetype": "video/mp4"}]}, "media.0.mimetype"),
        ({"kind": "AUDIO", "media": [IMAGE]}, "media.0.mimetype"),
        ({"kind": "IMAGE", "media": [IMAGE] * 11}, "media"),
        ({"kind": "IMAGE", "media": [{**IMAGE, "url": "ftp://cdn.example.com/a.jpg"}]}, "media.0.url"),
        ({"kind": "IMAGE", "media": [{**IMAGE, "caption": "{{nome"}]}, "media.0.caption"),
        ({"kind": "LOCATION"}, "location"),
        ({"kind": "LOCATION", "location": {"latitude": 91, "longitude": 0}}, "location.latitude"),
        ({"kind": "LOCATION", "location": {"latitude": 0, "longitude": -180.5}}, "location.longitude"),
        ({"kind": "TEXT", "body": "x", "location": {"latitude": 0, "longitude": 0}}, "location"),
        ({"kind": "STICKER", "body": "x"}, "kind"),
        ({"kind": "TEXT", "body": "a\x00"}, "body"),
    ],
)
def test_bad_scripts_are_422_naming_the_field_and_write_nothing(secretary_api, people, body, field):
    answer = secretary_api.post(SCRIPTS, json={"name": "x", **body}, headers=people.admin_h)
    assert answer.status_code == 422, answer.json
    assert any(error["field"].startswith(field) for error in answer.json["errors"]), answer.json
    assert count(ScriptedMessage) == 0


def test_scripts_need_the_template_permissions(secretary_api, people):
    body = {"name": "x", "kind": "TEXT", "body": "Olá"}
    assert secretary_api.post(SCRIPTS, json=body, headers=people.ana_h).status_code == 403
    created = secretary_api.post(SCRIPTS, json=body, headers=people.admin_h).json
    assert secretary_api.delete(f"{SCRIPTS}/{created['id']}", headers=people.ana_h).status_code == 403
    assert secretary_api.get(f"{SCRIPTS}/{created['id']}", headers=people.ana_h).status_code == 200
    assert secretary_api.get(f"{SCRIPTS}/{uuid.uuid4()}", headers=people.ana_h).status_code == 404
    assert count(ScriptedMessage) == 1


# --- quick replies ----------------------------------------------------------------------------------------------


def make_reply(client, headers, **fields) -> dict:
    body = {"title": "Resposta", "response": "Oi {{nome}}!", **fields}
    answer = client.post(REPLIES, json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_quick_reply_crud_normalises_contexts_and_shortcuts(secretary_api, people):
    reply = make_reply(secretary_api, people.admin_h, title="Preço", shortcut="/Preco",
                       contexts=["Preço", "PÓS procedimento", "preco"], intent="price")  # fmt: skip
    assert reply["contexts"] == ["preco", "pos-procedimento"] and reply["shortcut"] == "/preco"
    assert reply["intent"] == "price" and reply["usage_count"] == 0
    duplicate = secretary_api.post(REPLIES, json={"title": "x", "response": "y", "shortcut": "preco"},
                                   headers=people.admin_h)  # fmt: skip
    assert duplicate.status_code == 409

    url = f"{REPLIES}/{reply['id']}"
    edited = secretary_api.patch(url, json={"intent": None, "contexts": ["endereço"]}, headers=people.admin_h)
    assert edited.status_code == 200 and edited.json["intent"] is None and edited.json["contexts"] == ["endereco"]
    [entry] = audits("quick_reply.updated")
    assert entry.old_value["contexts"] == ["preco", "pos-procedimento"] and entry.old_value["intent"] == "price"
    listing = secretary_api.get(f"{REPLIES}?context=Endereço", headers=people.ana_h).json
    assert [r["id"] for r in listing["items"]] == [reply["id"]]
    assert secretary_api.delete(url, headers=people.admin_h).status_code == 204
    assert audits("quick_reply.deleted")[0].old_value["title"] == "Preço"


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "response": "{{}}"},
        {"title": "x", "response": "y", "contexts": ["!!"]},
        {"title": "x", "response": "y", "contexts": ["a"] * 11},
        {"title": "x", "response": "y", "contexts": ["c" * 41]},
        {"title": "x", "response": "y", "intent": "dance"},
        {"title": "x", "response": "y", "shortcut": "/com espaço"},
        {"title": "", "response": "y"},
        {"title": "x", "response": "y\x00"},
    ],
)
def test_bad_quick_replies_are_422_and_write_nothing(secretary_api, people, body):
    answer = secretary_api.post(REPLIES, json=body, headers=people.admin_h)
    assert answer.status_code == 422, answer.json
    assert count(QuickReply) == 0


def test_using_a_reply_counts_and_renders_it_for_the_conversation(secretary_api, people):
    cid = make_conversation("5511900000010", people.ana)
    reply = make_reply(secretary_api, people.admin_h, response="Oi {{nome}}, sua consulta é {{data}}.")
    url = f"{REPLIES}/{reply['id']}/use"
    used = secretary_api.post(url, json={"conversation_id": str(cid)}, headers=people.ana_h)
    assert used.status_code == 200, used.json
    assert used.json["rendered"] == "Oi Maria, sua consulta é {{data}}." and used.json["missing_variables"] == ["data"]
    assert used.json["usage_count"] == 1
    again = secretary_api.post(url, json={"variables": {"nome": "Rita", "data": "amanhã"}}, headers=people.ana_h)
    assert again.json["rendered"] == "Oi Rita, sua consulta é amanhã." and again.json["usage_count"] == 2

    assert secretary_api.post(url, json={"conversation_id": str(cid)}, headers=people.bia_h).status_code == 404
    assert secretary_api.post(f"{REPLIES}/{uuid.uuid4()}/use", json={}, headers=people.ana_h).status_code == 404
    secretary_api.patch(f"{REPLIES}/{reply['id']}", json={"is_active": False}, headers=people.admin_h)
    assert secretary_api.post(url, json={}, headers=people.ana_h).status_code == 409
    with session_scope() as session:
        assert session.scalar(select(QuickReply.usage_count)) == 2


def test_quick_replies_are_managed_with_manage_templates_only(secretary_api, people):
    assert secretary_api.post(REPLIES, json={"title": "x", "response": "y"}, headers=people.ana_h).status_code == 403
    reply = make_reply(secretary_api, people.admin_h)
    assert secretary_api.patch(f"{REPLIES}/{reply['id']}", json={"title": "z"}, headers=people.ana_h).status_code == 403
    assert secretary_api.get(f"{REPLIES}/{reply['id']}", headers=people.ana_h).status_code == 200
    assert count(QuickReply) == 1


def test_suggestions_for_a_context_rank_by_popularity(secretary_api, people):
    rare = make_reply(secretary_api, people.admin_h, title="Agenda A", contexts=["agendamento"])
    popular = make_reply(secretary_api, people.admin_h, title="Agenda B", contexts=["agendamento"])
    make_reply(secretary_api, people.admin_h, title="Preço", contexts=["preco"])
    make_reply(secretary_api, people.admin_h, title="Inativa", contexts=["agendamento"], is_active=False)
    for _ in range(2):
        secretary_api.post(f"{REPLIES}/{popular['id']}/use", json={}, headers=people.ana_h)

    answer = secretary_api.get(f"{REPLIES}/suggestions?context=Agendamento", headers=people.ana_h)
    assert answer.status_code == 200, answer.json
    assert [item["id"] for item in answer.json["items"]] == [popular["id"], rare["id"]]
    assert answer.json["items"][0]["rendered"] == "Oi {{nome}}!"
    assert secretary_api.get(f"{REPLIES}/suggestions", headers=people.ana_h).status_code == 422
    assert secretary_api.get(f"{REPLIES}/suggestions?context=x&limit=21", headers=people.ana_h).status_code == 422


def test_suggestions_for_a_conversation_come_from_its_messages_and_intent(secretary_api, people):
    price = make_reply(secretary_api, people.admin_h, title="Valores", contexts=["preco"])
    where = make_reply(secretary_api, people.admin_h, title="Endereço", contexts=["endereco"],
                       response="{{nome}}, a {{clinica}} fica na Av. Paulista.")  # fmt: skip
    booking = make_reply(secretary_api, people.admin_h, title="Marcar", intent="schedule")
    make_reply(secretary_api, people.admin_h, title="Nada a ver", contexts=["convenio"])
    # Oldest first: the newest message (where is it?) weighs most.
    cid = make_conversation("5511900000020", people.ana, ("Quanto custa o clareamento?", "E ONDE FICA a clínica?"))

    answer = secretary_api.get(f"{REPLIES}/suggestions?conversation_id={cid}", headers=people.ana_h)
    assert answer.status_code == 200, answer.json
    assert [item["id"] for item in answer.json["items"]] == [where["id"], price["id"]]
    assert answer.json["contexts"][:2] == ["endereco", "preco"] and answer.json["intent"] is None
    assert answer.json["items"][0]["rendered"].startswith("Maria, a ")

    with session_scope() as session:
        decision = {"reply": "...", "intent": "schedule", "confidence": 0.9, "maturity": {"score": 80}}
        session.add(LLMInteraction(conversation_id=cid, provider=LLMProvider.OFFLINE, model_name="offline",
                                   prompt_version="v1", latency_ms=1, response=json.dumps(decision)))  # fmt: skip
    answer = secretary_api.get(f"{REPLIES}/suggestions?conversation_id={cid}", headers=people.ana_h).json
    assert answer["intent"] == "schedule" and answer["items"][0]["id"] == booking["id"]

    assert secretary_api.get(f"{REPLIES}/suggestions?conversation_id={cid}", headers=people.bia_h).status_code == 404
    assert secretary_api.get(f"{REPLIES}/suggestions?conversation_id={cid}", headers=people.admin_h).status_code == 200


def test_the_stored_intent_is_used_when_no_model_answer_is_readable(secretary_api, people):
    booking = make_reply(secretary_api, people.admin_h, title="Marcar", contexts=["agendamento"])
    cid = make_conversation("5511900000030", people.ana, ("ok",))
    with session_scope() as session:
        session.add(ConversationContext(conversation_id=cid, intent_detected=True, intent_type="schedule"))
        session.add(LLMInteraction(conversation_id=cid, provider=LLMProvider.OFFLINE, model_name="offline",
                                   prompt_version="v1", latency_ms=1, response="not json"))  # fmt: skip
    answer = secretary_api.get(f"{REPLIES}/suggestions?conversation_id={cid}", headers=people.ana_h).json
    assert answer["intent"] == "schedule" and [item["id"] for item in answer["items"]] == [booking["id"]]


def test_no_token_is_401(secretary_api, backends):
    some = uuid.uuid4()
    calls = (("GET", TEMPLATES), ("POST", f"{TEMPLATES}/{some}/render"), ("PATCH", f"{SCRIPTS}/{some}"),
             ("GET", f"{REPLIES}/suggestions?context=preco"), ("POST", f"{REPLIES}/{some}/use"))  # fmt: skip
    for method, url in calls:
        assert secretary_api.open(url, method=method, json={}).status_code == 401, (method, url)

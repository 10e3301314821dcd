"""Conversation notes (card 104), tags (card 103) and Portuguese full-text search (card 112) through the
secretary API: authorship, uniqueness, idempotent tagging, visibility (USER vs ADMIN) and ranked snippets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from shared.audit.models import AuditLog
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

BASE = "/api/v1/conversations"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_conversation(phone: str, owner=None, messages: tuple[str, ...] = ()) -> uuid.UUID:
    with session_scope() as session:
        conversation = Conversation(
            chat_id=f"{phone}@c.us", phone_number=phone, assigned_to_user_id=owner.id if owner else None
        )
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


# --- notes -----------------------------------------------------------------------------------------------------


def test_notes_crud_newest_first_and_audited(secretary_api, people):
    cid = make_conversation("5511900000001", people.ana)
    notes = f"{BASE}/{cid}/notes"
    first = secretary_api.post(notes, json={"body": "  Cliente solicitou retorno amanhã  "}, headers=people.ana_h)
    assert first.status_code == 201, first.json
    assert first.json["body"] == "Cliente solicitou retorno amanhã"
    assert first.json["user_id"] == str(people.ana.id)
    second = secretary_api.post(notes, json={"body": "Ligar às 10h"}, headers=people.admin_h)
    assert second.status_code == 201

    listing = secretary_api.get(notes, headers=people.ana_h)
    assert listing.status_code == 200
    assert [note["body"] for note in listing.json["items"]] == ["Ligar às 10h", "Cliente solicitou retorno amanhã"]
    assert listing.json["total"] == 2

    note_url = f"{notes}/{first.json['id']}"
    edited = secretary_api.patch(note_url, json={"body": "Retorno na sexta"}, headers=people.ana_h)
    assert edited.status_code == 200 and edited.json["body"] == "Retorno na sexta"
    [entry] = audits("conversation_note.updated")
    assert entry.old_value == {"body": "Cliente solicitou retorno amanhã"}
    assert entry.new_value == {"body": "Retorno na sexta"}
    assert entry.user_id == people.ana.id

    assert secretary_api.delete(note_url, headers=people.ana_h).status_code == 204
    [deleted] = audits("conversation_note.deleted")
    assert deleted.old_value["body"] == "Retorno na sexta"
    assert secretary_api.delete(note_url, headers=people.ana_h).status_code == 404
    assert secretary_api.get(notes, headers=people.ana_h).json["total"] == 1


def test_only_the_author_or_an_admin_changes_a_note(secretary_api, people):
    cid = make_conversation("5511900000002", people.ana)
    notes = f"{BASE}/{cid}/notes"
    by_admin = secretary_api.post(notes, json={"body": "Nota da admin"}, headers=people.admin_h).json
    by_ana = secretary_api.post(notes, json={"body": "Nota da Ana"}, headers=people.ana_h).json

    # Ana sees the conversation but did not write the admin's note: 403.
    assert secretary_api.patch(f"{notes}/{by_admin['id']}", json={"body": "x"}, headers=people.ana_h).status_code == 403
    assert secretary_api.delete(f"{notes}/{by_admin['id']}", headers=people.ana_h).status_code == 403
    # Bia cannot see the conversation at all: 404, for reading and writing alike.
    assert secretary_api.patch(f"{notes}/{by_ana['id']}", json={"body": "x"}, headers=people.bia_h).status_code == 404
    assert secretary_api.get(notes, headers=people.bia_h).status_code == 404
    assert secretary_api.post(notes, json={"body": "x"}, headers=people.bia_h).status_code == 404
    # The ADMIN changes anyone's note.
    edited = secretary_api.patch(f"{notes}/{by_ana['id']}", json={"body": "Corrigida"}, headers=people.admin_h)
    assert edited.status_code == 200 and edited.json["user_id"] == str(people.ana.id)
    # A note id of another conversation is not found here.
    other = make_conversation("5511900000003", people.ana)
    assert secretary_api.delete(f"{BASE}/{other}/notes/{by_ana['id']}", headers=people.ana_h).status_code == 404
    with session_scope() as session:
        assert sorted(session.scalars(select(ConversationNote.body))) == ["Corrigida", "Nota da admin"]


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "a\x00b"}, {"body": "x" * 5001}, {}])
def test_bad_notes_are_422_and_write_nothing(secretary_api, people, body):
    cid = make_conversation("5511900000004", people.ana)
    answer = secretary_api.post(f"{BASE}/{cid}/notes", json=body, headers=people.ana_h)
    assert answer.status_code == 422 and answer.json["status"] == 422
    with session_scope() as session:
        assert session.scalars(select(ConversationNote)).first() is None


def test_no_token_is_401(secretary_api, backends):
    cid, some = uuid.uuid4(), uuid.uuid4()
    for method, url in (("GET", f"{BASE}/{cid}/notes"), ("POST", "/api/v1/tags"), ("GET", "/api/v1/tags"),
                        ("POST", f"{BASE}/{cid}/tags"), ("DELETE", f"{BASE}/{cid}/tags/{some}"),
                        ("GET", f"{BASE}/search?q=dor")):  # fmt: skip
        assert secretary_api.open(url, method=method, json={}).status_code == 401, (method, url)


# --- tags ------------------------------------------------------------------------------------------------------


def test_tags_are_created_by_admins_with_case_insensitive_unique_names(secretary_api, people):
    created = secretary_api.post("/api/v1/tags", json={"name": " Urgente ", "color": "#ff0000"}, headers=people.admin_h)
    assert created.status_code == 201, created.json
    assert created.json["name"] == "Urgente" and created.json["color"] == "#FF0000"
    for name in ("urgente", "URGENTE", "  uRgEnTe"):
        again = secretary_api.post("/api/v1/tags", json={"name": name}, headers=people.admin_h)
        assert again.status_code == 409 and again.json["type"] == "urn:clinicbot:problem:conflict"
    assert secretary_api.post("/api/v1/tags", json={"name": "Retorno"}, headers=people.ana_h).status_code == 403
    assert (
        secretary_api.post("/api/v1/tags", json={"name": "X", "color": "red"}, headers=people.admin_h).status_code
        == 422
    )
    assert secretary_api.post("/api/v1/tags", json={"name": "   "}, headers=people.admin_h).status_code == 422

    listing = secretary_api.get("/api/v1/tags", headers=people.ana_h)
    assert listing.status_code == 200 and [tag["name"] for tag in listing.json["items"]] == ["Urgente"]
    assert audits("tag.created")[0].new_value == {"name": "Urgente", "color": "#FF0000"}


def test_tagging_is_idempotent_and_follows_visibility(secretary_api, people):
    tag = secretary_api.post("/api/v1/tags", json={"name": "Orçamento"}, headers=people.admin_h).json
    cid = make_conversation("5511900000005", people.ana)
    url = f"{BASE}/{cid}/tags"
    first = secretary_api.post(url, json={"tag_id": tag["id"]}, headers=people.ana_h)
    assert first.status_code == 201 and [t["name"] for t in first.json["tags"]] == ["Orçamento"]
    again = secretary_api.post(url, json={"tag_id": tag["id"]}, headers=people.ana_h)
    assert again.status_code == 200 and again.json == first.json
    assert secretary_api.get(url, headers=people.admin_h).json["tags"] == first.json["tags"]

    assert secretary_api.post(url, json={"tag_id": tag["id"]}, headers=people.bia_h).status_code == 404
    assert secretary_api.delete(f"{url}/{tag['id']}", headers=people.bia_h).status_code == 404
    unknown = secretary_api.post(url, json={"tag_id": str(uuid.uuid4())}, headers=people.ana_h)
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "tag_id"
    assert secretary_api.post(f"{BASE}/{uuid.uuid4()}/tags", json={"tag_id": tag["id"]},
                              headers=people.admin_h).status_code == 404  # fmt: skip

    assert secretary_api.delete(f"{url}/{tag['id']}", headers=people.ana_h).status_code == 204
    assert secretary_api.delete(f"{url}/{tag['id']}", headers=people.ana_h).status_code == 204
    assert secretary_api.delete(f"{url}/{uuid.uuid4()}", headers=people.ana_h).status_code == 404
    assert secretary_api.get(url, headers=people.ana_h).json["tags"] == []


def test_deleting_a_tag_is_admin_only_and_untags_everything(secretary_api, people):
    tag = secretary_api.post("/api/v1/tags", json={"name": "Retorno"}, headers=people.admin_h).json
    cid = make_conversation("5511900000006", people.ana)
    secretary_api.post(f"{BASE}/{cid}/tags", json={"tag_id": tag["id"]}, headers=people.ana_h)
    assert secretary_api.delete(f"/api/v1/tags/{tag['id']}", headers=people.ana_h).status_code == 403
    assert secretary_api.delete(f"/api/v1/tags/{tag['id']}", headers=people.admin_h).status_code == 204
    assert secretary_api.delete(f"/api/v1/tags/{tag['id']}", headers=people.admin_h).status_code == 404
    with session_scope() as session:
        assert session.scalars(select(ConversationTag)).first() is None
        assert session.scalars(select(Tag)).first() is None
    assert audits("tag.deleted")[0].old_value == {"name": "Retorno", "color": None}


# --- search ----------------------------------------------------------------------------------------------------


def search(client, headers, q: str, **params) -> list[dict]:
    answer = client.get(f"{BASE}/search", query_string={"q": q, **params}, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json["items"]


def test_search_stems_ranks_groups_and_highlights(secretary_api, people):
    tooth = make_conversation("5511900000010", people.ana, ("bom dia", "estou com muita dor nos dentes"))
    both = make_conversation(
        "5511900000011", people.ana, ("dor de dente forte, dor de dente a noite toda", "tenho dor de cabeça")
    )
    make_conversation("5511900000012", people.ana, ("quero marcar uma limpeza",))

    hits = search(secretary_api, people.ana_h, "dor de dente")
    assert [hit["conversation_id"] for hit in hits] == [str(both), str(tooth)]  # denser match ranks first
    assert hits[0]["rank"] > hits[1]["rank"] > 0
    assert "<mark>dor</mark>" in hits[0]["snippet"] and "cabeça" not in hits[0]["snippet"]  # its best message
    assert hits[1]["snippet"] == "estou com muita <mark>dor</mark> nos <mark>dentes</mark>"
    assert hits[1]["direction"] == "INBOUND" and hits[1]["sender_kind"] == "PATIENT"

    page = secretary_api.get(f"{BASE}/search", query_string={"q": "dor", "limit": 1, "page": 2}, headers=people.ana_h)
    assert page.json["total"] == 2 and page.json["pages"] == 2 and len(page.json["items"]) == 1
    assert search(secretary_api, people.ana_h, "implante") == []
    assert search(secretary_api, people.ana_h, "de") == []  # only a stop word: nothing to look for


def test_search_respects_visibility(secretary_api, people):
    mine = make_conversation("5511900000020", people.ana, ("preciso de um orçamento",))
    hers = make_conversation("5511900000021", people.bia, ("qual o orçamento do clareamento?",))
    make_conversation("5511900000022", None, ("orçamento de aparelho",))
    assert [hit["conversation_id"] for hit in search(secretary_api, people.ana_h, "orçamento")] == [str(mine)]
    assert [hit["conversation_id"] for hit in search(secretary_api, people.bia_h, "orçamento")] == [str(hers)]
    assert len(search(secretary_api, people.admin_h, "orçamento")) == 3


def test_search_keeps_accents_and_escapes_the_body(secretary_api, people):
    """The 'portuguese' configuration stems but does not strip accents: "orcamento" misses "orçamento"."""
    make_conversation("5511900000030", people.ana, ("Orçamento <b>urgente</b> & 1 < 2 orçamentos",))
    [hit] = search(secretary_api, people.ana_h, "orçamento")
    # The parser drops markup-looking tags from the headline; what is left of the patient's text is escaped.
    assert hit["snippet"] == "<mark>Orçamento</mark>  urgente  &amp; 1 &lt; 2 <mark>orçamentos</mark>"
    assert search(secretary_api, people.ana_h, "orcamento") == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 201}, {"q": "dor", "limit": 0}])
def test_search_needs_a_query(secretary_api, people, params):
    answer = secretary_api.get(f"{BASE}/search", query_string=params, headers=people.ana_h)
    assert answer.status_code == 422 and answer.json["status"] == 422


def test_search_survives_odd_queries(secretary_api, people):
    make_conversation("5511900000040", people.ana, ("dor",))
    for q in ('"dor', "dor -", "!!! & | ( )", "or", "-dor", "dor:*", "'; drop table"):
        answer = secretary_api.get(f"{BASE}/search", query_string={"q": q}, headers=people.ana_h)
        assert answer.status_code == 200, (q, answer.json)


def test_the_conversation_list_filters_by_tag_within_what_the_user_sees(secretary_api, people):
    tag = secretary_api.post("/api/v1/tags", json={"name": "Retorno"}, headers=people.admin_h).json
    tagged, untagged = make_conversation("5511900000031", people.ana), make_conversation("5511900000032", people.ana)
    hidden = make_conversation("5511900000033", people.bia)
    for cid, headers in ((tagged, people.ana_h), (hidden, people.bia_h)):
        secretary_api.post(f"{BASE}/{cid}/tags", json={"tag_id": tag["id"]}, headers=headers)

    ana = secretary_api.get(BASE, query_string={"tag_id": tag["id"]}, headers=people.ana_h).json
    admin = secretary_api.get(BASE, query_string={"tag_id": tag["id"]}, headers=people.admin_h).json
    assert [item["id"] for item in ana["items"]] == [str(tagged)]
    assert sorted(item["id"] for item in admin["items"]) == sorted([str(tagged), str(hidden)])
    assert str(untagged) not in {item["id"] for item in admin["items"]}


# --- a very common term is ranked among its newest matches ----------------------------------------------------


def _spread_conversations(days: tuple[int, ...], subject: str = "clareamento") -> list[uuid.UUID]:
    """One conversation per day offset, each with one message about `subject` (and one about nothing)."""
    ids = []
    for i, day in enumerate(days):
        with session_scope() as session:
            conversation = Conversation(chat_id=f"55119000020{i:02d}@c.us", phone_number=f"55119000020{i:02d}")
            session.add(conversation)
            session.flush()
            for offset, body in ((0, "Bom dia"), (1, f"Quanto custa o {subject}? ({i})")):
                session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                                sender_kind=SenderKind.PATIENT, body=body,
                                                created_at=T0 + timedelta(days=day, minutes=offset)))  # fmt: skip
            ids.append(conversation.id)
    with session_scope() as session:
        session.execute(text("ANALYZE conversation_messages"))  # the estimate comes from the statistics
    return ids


def test_a_term_common_enough_is_ranked_among_its_newest_matches_with_an_estimated_total(
    secretary_api, people, settings_env
):
    ids = _spread_conversations((0, 10, 20, 30, 40))  # newest last
    exact = secretary_api.get(f"{BASE}/search", query_string={"q": "clareamento"}, headers=people.admin_h).json
    assert exact["total"] == 5 and exact["total_is_estimate"] is False and exact["searched_since"] is None

    settings_env(SEARCH_RANK_ALL_LIMIT="0", SEARCH_NEWEST_RANKED="1")  # every term counts as very common
    first = secretary_api.get(f"{BASE}/search", query_string={"q": "clareamento", "limit": 1},
                              headers=people.admin_h).json  # fmt: skip
    assert [hit["conversation_id"] for hit in first["items"]] == [str(ids[-1])]
    assert first["total_is_estimate"] is True
    assert datetime.fromisoformat(first["searched_since"]) > T0 + timedelta(days=20)
    assert first["total"] >= 1

    # A later page widens the window until it holds enough conversations: the third newest, as exact search says.
    third = secretary_api.get(f"{BASE}/search", query_string={"q": "clareamento", "limit": 1, "page": 3},
                              headers=people.admin_h).json  # fmt: skip
    assert [hit["conversation_id"] for hit in third["items"]] == [exact["items"][2]["conversation_id"]]
    assert third["total"] >= 3
    everything = secretary_api.get(f"{BASE}/search", query_string={"q": "clareamento", "limit": 5, "page": 2},
                                   headers=people.admin_h).json  # fmt: skip
    assert everything["items"] == [] and everything["total"] == 5 and everything["total_is_estimate"] is False


def test_a_hyphenated_word_counts_as_common_as_its_most_common_part(secretary_api, people, settings_env):
    # The parser reads "raio-x" as 'raio-x' <-> 'rai' <-> 'x'; the planner, multiplying the parts' frequencies,
    # expected one match in five, and ranked all of a very common word's matches.
    ids = _spread_conversations((0, 10, 20, 30, 40), subject="raio-x")  # newest last
    settings_env(SEARCH_RANK_ALL_LIMIT="3", SEARCH_NEWEST_RANKED="1")
    found = secretary_api.get(f"{BASE}/search", query_string={"q": "raio-x", "limit": 1}, headers=people.admin_h).json
    assert found["total_is_estimate"] is True and found["searched_since"] is not None
    assert [hit["conversation_id"] for hit in found["items"]] == [str(ids[-1])]
    assert "<mark>raio</mark>-<mark>x</mark>" in found["items"][0]["snippet"]


def test_the_conversation_detail_carries_its_tags_and_latest_notes(secretary_api, people):
    cid = make_conversation("5511900000031", people.ana, ("Oi",))
    tag = secretary_api.post("/api/v1/tags", json={"name": "VIP", "color": "#00AA00"}, headers=people.admin_h).json
    assert secretary_api.post(f"{BASE}/{cid}/tags", json={"tag_id": tag["id"]}, headers=people.ana_h).status_code == 201
    for i in range(22):
        assert (
            secretary_api.post(f"{BASE}/{cid}/notes", json={"body": f"nota {i}"}, headers=people.ana_h).status_code
            == 201
        )

    detail = secretary_api.get(f"{BASE}/{cid}", headers=people.ana_h).json
    assert [(t["name"], t["color"]) for t in detail["tags"]] == [("VIP", "#00AA00")]
    assert [note["body"] for note in detail["notes"]] == [f"nota {i}" for i in range(21, 1, -1)]
    assert detail["has_more_notes"] is True

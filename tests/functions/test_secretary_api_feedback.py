"""Patient feedback (card 134): a signed single-use token, no login; ADMIN lists it with the NPS."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from shared.conversations.models import Conversation, ConversationStatus
from shared.db import session_scope, utcnow
from shared.feedback.models import Feedback
from shared.feedback.tokens import closing_message, issue_feedback_token
from shared.queue import get_task_queue
from shared.users.models import Role
from tests.conftest import bearer

URL = "/api/v1/feedback"


def closed_conversation(phone: str = "5511987654321"):
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, status=ConversationStatus.CLOSED)
        session.add(conversation)
        session.flush()
        return conversation.id


def stored() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Feedback))


def tamper(token: str) -> str:
    payload, mac = token.split(".")
    return f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


def test_a_patient_answers_once_without_logging_in(secretary_api):
    token = issue_feedback_token(closed_conversation())
    assert len(token) < 100 and closing_message(token, "https://x.test").endswith(f"/api/v1/feedback/form#{token}")

    first = secretary_api.post(URL, json={"token": token, "score": 10, "comment": "Muito bom"})
    again = secretary_api.post(URL, json={"token": token, "score": 2})

    assert first.status_code == 201, first.json
    assert again.status_code == 409 and again.json["status"] == 409
    with session_scope() as session:
        (feedback,) = session.scalars(select(Feedback))
        assert (feedback.score, feedback.comment) == (10, "Muito bom")


def test_a_tampered_expired_or_garbage_token_is_refused_with_401(secretary_api):
    conversation_id = closed_conversation()
    expired = issue_feedback_token(conversation_id, now=utcnow() - timedelta(days=7, seconds=1))
    tampered = tamper(issue_feedback_token(conversation_id))
    _, mac = issue_feedback_token(conversation_id).split(".")
    other_payload = issue_feedback_token(closed_conversation("5511911112222")).split(".")[0]
    for token in (expired, tampered, f"{other_payload}.{mac}", "garbage", "a.b", "ção.ção"):
        answer = secretary_api.post(URL, json={"token": token, "score": 8})
        assert answer.status_code == 401, (token, answer.json)
        assert answer.json["status"] == 401
    assert stored() == 0


def test_a_score_out_of_range_or_a_long_comment_is_422_and_nothing_is_written(secretary_api):
    token = issue_feedback_token(closed_conversation())
    for body in (
        {"token": token, "score": 11},
        {"token": token, "score": -1},
        {"token": token},
        {"token": token, "score": 5, "comment": "x" * 2001},
        {"score": 5},
    ):
        assert secretary_api.post(URL, json=body).status_code == 422, body
    assert stored() == 0
    assert secretary_api.post(URL, json={"token": token, "score": 0}).status_code == 201  # still unused


def test_a_token_for_an_erased_conversation_is_404(secretary_api):
    conversation_id = closed_conversation()
    token = issue_feedback_token(conversation_id)
    with session_scope() as session:
        session.delete(session.get(Conversation, conversation_id))
    assert secretary_api.post(URL, json={"token": token, "score": 9}).status_code == 404


def submit(secretary_api, score: int, phone: str) -> None:
    token = issue_feedback_token(closed_conversation(phone))
    assert secretary_api.post(URL, json={"token": token, "score": score}).status_code == 201


def test_an_admin_lists_feedback_newest_first_with_the_nps(secretary_api, make_user, login):
    for index, score in enumerate((10, 9, 8, 6, 0)):
        submit(secretary_api, score, f"55119876500{index:02d}")
    headers = bearer(login(make_user(Role.ADMIN))["access_token"])

    page = secretary_api.get(f"{URL}?limit=2", headers=headers)

    assert page.status_code == 200, page.json
    assert [item["score"] for item in page.json["items"]] == [0, 6]
    assert (page.json["total"], page.json["pages"]) == (5, 3)
    assert page.json["nps"] == {"total": 5, "promoters": 2, "passives": 1, "detractors": 2, "nps": 0.0}


def test_the_nps_follows_the_date_filters(secretary_api, make_user, login):
    submit(secretary_api, 10, "5511987650001")
    with session_scope() as session:
        session.execute(Feedback.__table__.update().values(created_at=utcnow() - timedelta(days=30)))
    submit(secretary_api, 3, "5511987650002")
    headers = bearer(login(make_user(Role.ADMIN))["access_token"])
    since = (utcnow() - timedelta(days=1)).isoformat()

    recent = secretary_api.get(URL, query_string={"date_from": since}, headers=headers)
    older = secretary_api.get(URL, query_string={"date_to": since}, headers=headers)
    empty = secretary_api.get(
        URL, query_string={"date_to": (utcnow() - timedelta(days=60)).isoformat()}, headers=headers
    )

    assert recent.json["nps"] == {"total": 1, "promoters": 0, "passives": 0, "detractors": 1, "nps": -100.0}
    assert older.json["nps"]["nps"] == 100.0 and older.json["total"] == 1
    assert empty.json["nps"]["nps"] is None and empty.json["items"] == []
    backwards = secretary_api.get(
        URL, query_string={"date_from": since, "date_to": "2020-01-01T00:00:00Z"}, headers=headers
    )
    assert backwards.status_code == 422


def test_the_listing_is_for_admins_only(secretary_api, make_user, login):
    user = bearer(login(make_user(Role.USER))["access_token"])
    assert secretary_api.get(URL, headers=user).status_code == 403
    assert secretary_api.get(URL).status_code == 401


def test_closing_a_conversation_asks_the_patient_once_with_a_token_that_scores(
    secretary_api, people, waha_emulator, settings_env
):
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key")
    waha_emulator.emulator.outbox.clear()
    with session_scope() as session:
        conversation = Conversation(
            chat_id="5511944443333@c.us", phone_number="5511944443333", assigned_to_user_id=people.ana.id
        )
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    closed = secretary_api.patch(
        f"/api/v1/conversations/{conversation_id}/status", json={"status": "CLOSED"}, headers=people.ana_h
    )
    assert closed.status_code == 200, closed.json
    assert get_task_queue().join(timeout=30)
    [sent] = waha_emulator.emulator.outbox.list_messages({"5511944443333@c.us"})
    assert sent["text"].startswith("Como foi seu atendimento?")
    link = sent["text"].rsplit(" ", 1)[-1]
    address, _, token = link.partition("#")
    assert address == "https://api.clinica.test/api/v1/feedback/form"  # PUBLIC_BASE_URL, then the form's path
    page = secretary_api.get(address.removeprefix("https://api.clinica.test"))
    assert page.status_code == 200 and page.mimetype == "text/html" and token not in page.get_data(as_text=True)
    assert secretary_api.post("/api/v1/feedback", json={"token": token, "score": 9}).status_code == 201


def test_the_form_page_is_public_pt_br_and_locked_down(secretary_api):
    page = secretary_api.get(f"{URL}/form")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="pt-BR">' in html and "Como foi seu atendimento?" in html and "location.hash" in html
    assert 'fetch("../feedback"' in html  # /api/v1/feedback/form -> /api/v1/feedback
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "unsafe-inline" not in policy
    assert policy.count("'sha256-") == 2  # its one script and one style, by hash
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"


def test_without_a_public_address_nobody_is_asked(secretary_api, people, waha_emulator, settings_env):
    settings_env(WAHA_URL=waha_emulator.url, WAHA_API_KEY="test-waha-key", PUBLIC_BASE_URL="")
    waha_emulator.emulator.outbox.clear()
    with session_scope() as session:
        conversation = Conversation(chat_id="5511944445555@c.us", phone_number="5511944445555",
                                    assigned_to_user_id=people.ana.id)  # fmt: skip
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    closed = secretary_api.patch(
        f"/api/v1/conversations/{conversation_id}/status", json={"status": "CLOSED"}, headers=people.ana_h
    )
    assert closed.status_code == 200 and get_task_queue().join(timeout=30)
    assert waha_emulator.emulator.outbox.list_messages({"5511944445555@c.us"}) == []

"""GET /api/v1/conversations/export: the streamed CSV of conversations (card 106)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.audit.models import AuditLog
from shared.conversations import export
from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.leads.models import Lead, LeadStatus
from shared.users.models import Role, RolePermission
from shared.users.permissions import Permission

URL = "/api/v1/conversations/export"
T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo


def make_conversation(phone: str, *, messages: int = 0, created_at: datetime = T0, **fields) -> uuid.UUID:
    with session_scope() as session:
        conversation = Conversation(chat_id=f"{phone}@c.us", phone_number=phone, created_at=created_at,
                                    last_message_at=created_at + timedelta(minutes=messages), **fields)  # fmt: skip
        session.add(conversation)
        session.flush()
        for minute in range(messages):
            session.add(ConversationMessage(conversation_id=conversation.id, direction=MessageDirection.INBOUND,
                                            sender_kind=SenderKind.PATIENT, body=f"mensagem {minute}",
                                            created_at=created_at + timedelta(minutes=minute)))  # fmt: skip
        return conversation.id


def rows_of(response) -> list[dict[str, str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith(export.BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(export.BOM))))


def test_an_admin_exports_every_conversation_with_its_lead_assignee_and_message_count(secretary_api, people):
    first = make_conversation("5511999990001", messages=3, name="João Araújo", assigned_to_user_id=people.ana.id,
                              is_urgent=True)  # fmt: skip
    make_conversation("5511999990002", created_at=T0 + timedelta(days=1))
    with session_scope() as session:
        session.add(Lead(conversation_id=first, phone_number="5511999990001", status=LeadStatus.READY,
                         maturity_score=80))  # fmt: skip

    response = secretary_api.get(URL, headers=people.admin_h, query_string={"format": "csv"})

    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = rows_of(response)
    assert list(rows[0]) == list(export.HEADER)
    assert [row["phone_number"] for row in rows] == ["5511999990001", "5511999990002"]  # oldest first
    assert rows[0] | {"conversation_id": ""} == {
        "conversation_id": "", "phone_number": "5511999990001", "contact_name": "João Araújo", "status": "ACTIVE",
        "is_urgent": "true", "assigned_to": people.ana.email, "lead_status": "READY", "maturity_score": "80",
        "message_count": "3", "created_at": "2026-03-10T12:00:00-03:00", "last_message_at": "2026-03-10T12:03:00-03:00",
    }  # fmt: skip
    assert rows[0]["conversation_id"] == str(first)
    assert rows[1]["lead_status"] == "" and rows[1]["message_count"] == "0"


def test_the_export_is_audited_with_its_filters(secretary_api, people):
    response = secretary_api.get(URL, headers=people.admin_h, query_string={"status": "CLOSED"})
    response.get_data()

    with session_scope() as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "conversation.exported"))
    assert entry.user_id == people.admin.id and entry.entity_id == response.headers["X-Export-ID"]
    assert entry.new_value["status"] == "CLOSED" and entry.new_value["format"] == "csv"


def test_a_user_exports_only_her_conversations(secretary_api, people):
    make_conversation("5511999990001", assigned_to_user_id=people.ana.id)
    make_conversation("5511999990002", assigned_to_user_id=people.bia.id)
    make_conversation("5511999990003")

    ana = rows_of(secretary_api.get(URL, headers=people.ana_h))
    bia_asks_for_ana = rows_of(
        secretary_api.get(URL, headers=people.bia_h, query_string={"assigned_to": people.ana.id})
    )

    assert [row["phone_number"] for row in ana] == ["5511999990001"]
    assert bia_asks_for_ana == []


def test_the_list_filters_and_the_creation_days_apply(secretary_api, people):
    make_conversation("5511999990001", created_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))  # Feb 28, 23:00 local
    make_conversation("5511999990002", created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC), is_urgent=True)
    make_conversation("5511999990003", created_at=datetime(2026, 3, 2, 2, 59, tzinfo=UTC))  # Mar 1, 23:59 local
    make_conversation("5511999990004", created_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC), name="Maria")

    def phones(**params) -> list[str]:
        return [row["phone_number"][-1] for row in rows_of(secretary_api.get(URL, headers=people.admin_h,
                                                                             query_string=params))]  # fmt: skip

    assert phones(start_date="2026-03-01", end_date="2026-03-01") == ["2", "3"]
    assert phones(start_date="2026-03-02") == ["4"]
    assert phones(end_date="2026-02-28") == ["1"]
    assert phones(is_urgent="true") == ["2"]
    assert phones(search="maria") == ["4"]


def test_the_export_reads_in_chunks_and_loses_no_row(secretary_api, people, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    for n in range(5):  # two share a creation time: the keyset must still take each once
        make_conversation(f"551199999000{n}", created_at=T0 + timedelta(minutes=min(n, 3)))

    rows = rows_of(secretary_api.get(URL, headers=people.admin_h))

    assert sorted(row["phone_number"] for row in rows) == [f"551199999000{n}" for n in range(5)]


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text(secretary_api, people):
    for n, name in enumerate(('=HYPERLINK("http://x")', "+55 11", "-2+3", "@SUM(A1)", "\tTab", "Ana =1")):
        make_conversation(f"551199999000{n}", name=name, created_at=T0 + timedelta(minutes=n))

    names = [row["contact_name"] for row in rows_of(secretary_api.get(URL, headers=people.admin_h))]

    assert names == ['\'=HYPERLINK("http://x")', "'+55 11", "'-2+3", "'@SUM(A1)", "'\tTab", "Ana =1"]


def test_semicolons_for_excel_in_portuguese(secretary_api, people):
    make_conversation("5511999990001", name="Conceição")

    text = secretary_api.get(URL, headers=people.admin_h, query_string={"separator": "semicolon"}).get_data()

    assert text.startswith(b"\xef\xbb\xbfconversation_id;phone_number;")
    assert ";Conceição;".encode() in text


@pytest.mark.parametrize(
    "params",
    [{"format": "xlsx"}, {"start_date": "2026-03-02", "end_date": "2026-03-01"}, {"start_date": "ontem"},
     {"status": "NOPE"}, {"search": "a\x00b"}, {"separator": "tab"}],
)  # fmt: skip
def test_bad_parameters_are_422_and_nothing_is_audited(secretary_api, people, params):
    response = secretary_api.get(URL, headers=people.admin_h, query_string=params)

    assert response.status_code == 422
    with session_scope() as session:
        exports = select(func.count()).select_from(AuditLog).where(AuditLog.action == "conversation.exported")
        assert session.scalar(exports) == 0


def test_without_the_permission_the_export_is_403_and_anonymous_is_401(secretary_api, people):
    with session_scope() as session:
        session.add(RolePermission(role=Role.USER, permission=Permission.EXPORT_CONVERSATIONS.value, granted=False))

    assert secretary_api.get(URL, headers=people.ana_h).status_code == 403
    assert secretary_api.get(URL).status_code == 401
    assert secretary_api.get(URL, headers=people.admin_h).status_code == 200

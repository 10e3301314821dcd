"""Streamed CSV export of conversations (card 106), in constant memory whatever the number of rows.

pg8000 has no server-side cursors (it reads a whole result into memory), so the rows are read by keyset
pagination: chunks of `CHUNK_ROWS` ordered by (created_at, id), each in its own short session, each turned into
CSV text and sent before the next is read. The filters are the conversation list's, and a USER exports only the
conversations assigned to her.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.config import get_settings
from shared.conversations.models import Conversation, ConversationMessage
from shared.conversations.schemas import ConversationListQuery
from shared.conversations.service import listing_filters, visible_to
from shared.db import session_scope
from shared.leads.models import Lead
from shared.users.models import User

CHUNK_ROWS = 2_000
HEADER = (
    "conversation_id", "phone_number", "contact_name", "status", "is_urgent", "assigned_to", "lead_status",
    "maturity_score", "message_count", "created_at", "last_message_at",
)  # fmt: skip
# Excel, LibreOffice and Google Sheets run a cell starting with one of these as a formula (OWASP "CSV injection"):
# a patient named "=HYPERLINK(...)" must reach the spreadsheet as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # without it Excel reads UTF-8 as Windows-1252 and "João" arrives as "JoÃ£o"
SEPARATORS = {"comma": ",", "semicolon": ";"}


class ConversationExportQuery(ConversationListQuery):
    """The conversation list's filters (`page` and `limit` do not apply: the file has every match)."""

    format: Literal["csv"] = Field(default="csv", description="the file format; only csv")
    start_date: date | None = Field(
        default=None,
        description="created on or after this day (the clinic's time zone)",
        json_schema_extra={"example": "2026-01-01"},
    )
    end_date: date | None = Field(
        default=None,
        description="created on or before this day (inclusive)",
        json_schema_extra={"example": "2026-01-31"},
    )
    separator: Literal["comma", "semicolon"] = Field(
        default="comma", description="semicolon suits Excel in Portuguese, where the comma is the decimal mark"
    )

    @model_validator(mode="after")
    def _days_in_order(self) -> ConversationExportQuery:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        return self


def audit_export(session: Session, actor: Principal, query: ConversationExportQuery) -> uuid.UUID:
    """Record who exported what (the filters); the id names this export in the audit log."""
    export_id = uuid.uuid4()
    filters = query.model_dump(mode="json", exclude={"page", "limit"}, exclude_none=True)
    record_audit(session, actor, "conversation.exported", "conversation_export", export_id, after=filters)
    return export_id


def export_csv(actor: Principal, query: ConversationExportQuery) -> Iterator[bytes]:
    """The CSV file (BOM and header first), chunk by chunk; nothing is read before the caller asks for it."""
    conditions = visible_to(actor) + listing_filters(query) + _created_between(query.start_date, query.end_date)
    zone = ZoneInfo(get_settings().clinic_timezone)
    delimiter = SEPARATORS[query.separator]
    yield (BOM + csv_text([HEADER], delimiter)).encode()
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        with session_scope() as session:
            rows = session.execute(_chunk(conditions, after)).all()
        if not rows:
            return
        yield csv_text((_line(row, zone) for row in rows), delimiter).encode()
        if len(rows) < CHUNK_ROWS:
            return
        after = (rows[-1].created_at, rows[-1].id)


def _created_between(start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    zone = ZoneInfo(get_settings().clinic_timezone)
    conditions = []
    if start is not None:
        conditions.append(Conversation.created_at >= datetime.combine(start, time.min, zone))
    if end is not None:
        conditions.append(Conversation.created_at < datetime.combine(end + timedelta(days=1), time.min, zone))
    return conditions


def _chunk(conditions: list[ColumnElement[bool]], after: tuple[datetime, uuid.UUID] | None) -> Select[Any]:
    """The next CHUNK_ROWS conversations after `after`, by (created_at, id): an index range, however deep."""
    message_count = (
        select(func.count())
        .where(ConversationMessage.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    keyset = [tuple_(Conversation.created_at, Conversation.id) > tuple_(*after)] if after else []
    return (
        select(Conversation.id, Conversation.phone_number, Conversation.name, Conversation.status,
               Conversation.is_urgent, User.email, Lead.status.label("lead_status"), Lead.maturity_score,
               message_count.label("message_count"), Conversation.created_at, Conversation.last_message_at)
        .outerjoin(User, User.id == Conversation.assigned_to_user_id)
        .outerjoin(Lead, and_(Lead.conversation_id == Conversation.id, Lead.deleted_at.is_(None)))
        .where(*conditions, *keyset)
        .order_by(Conversation.created_at, Conversation.id)
        .limit(CHUNK_ROWS)
    )  # fmt: skip


def _line(row: Any, zone: ZoneInfo) -> list[Any]:
    return [
        row.id, escape_cell(row.phone_number), escape_cell(row.name), row.status.value, str(row.is_urgent).lower(),
        escape_cell(row.email), row.lead_status.value if row.lead_status else None, row.maturity_score,
        row.message_count,
        _local(row.created_at, zone), _local(row.last_message_at, zone),
    ]  # fmt: skip


def escape_cell(value: str | None) -> str | None:
    """A cell Excel would read as a formula (= + - @ first) gets a leading apostrophe."""
    return "'" + value if value and value.startswith(FORMULA_STARTS) else value


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat(timespec="seconds") if moment else None


def csv_text(rows, delimiter: str) -> str:
    """Rows as CSV text with CRLF line ends."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()

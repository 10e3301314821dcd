"""The live stream read back for one viewer: entries parsed, kept to the viewer's scope, written as Server-Sent Events.

Scope: an ADMIN sees every event (or, with `user_id`, what one secretary sees). A secretary sees the events of what
is assigned to her: a lead's events by the lead's assignee and a conversation's status by the conversation's, as
they were committed; a patient's message by its conversation's assignee when the event is delivered (the intake
stores a message in one statement and does not read the assignment, so it is looked up then, one query per batch).
A patient's message in a conversation nobody has reaches ADMINs only, as the secretary API shows it: a secretary
sees such a conversation once it is handed to her or she claims it.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.conversations.models import Conversation
from shared.metrics.live import stream_key

STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
STREAM_START = "0-0"  # before every entry: an empty stream, or one that came back empty after a restart
ASSIGNEE = "assigned_to_user_id"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveEvent:
    id: str  # the Redis stream id, also the SSE id a reconnect sends back as Last-Event-ID
    event: str
    data: dict[str, Any]

    def sse(self) -> str:
        return sse_event(self.event, self.data, self.id)

    def out(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "data": self.data}


def sse_event(event: str, data: dict[str, Any], event_id: str | None = None) -> str:
    """One Server-Sent Event: its id (when it has one), its name and its data as one line of JSON."""
    lines = [f"id: {event_id}"] if event_id else []
    lines += [f"event: {event}", "data: " + json.dumps(data, separators=(",", ":"), default=str)]
    return "\n".join(lines) + "\n\n"


def stream_order(stream_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = stream_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def parse_entries(entries: list[tuple[str, dict[str, str]]]) -> list[LiveEvent]:
    """Entries as XRANGE and XREAD answer them; one that is not ours (no event, bad JSON) is skipped."""
    events = []
    for entry_id, fields in entries:
        try:
            events.append(LiveEvent(entry_id, fields["event"], json.loads(fields["data"])))
        except (KeyError, TypeError, ValueError):
            log.warning("live stream entry %s skipped: not an event", entry_id)
    return events


def visible_events(session: Session, events: list[LiveEvent], user_id: uuid.UUID | None) -> list[LiveEvent]:
    """The events the scope `user_id` may see (None: the whole clinic's), in stream order."""
    if user_id is None or not events:
        return events
    mine = str(user_id)
    unresolved = {e.data["conversation_id"] for e in events if ASSIGNEE not in e.data and e.data.get("conversation_id")}
    hers = _assigned_to(session, unresolved, user_id) if unresolved else set()
    return [e for e in events if e.data.get(ASSIGNEE) == mine
            or (ASSIGNEE not in e.data and e.data.get("conversation_id") in hers)]  # fmt: skip


def _assigned_to(session: Session, conversation_ids: set[str], user_id: uuid.UUID) -> set[str]:
    ids = [uuid.UUID(value) for value in conversation_ids if _is_uuid(value)]
    found = session.scalars(
        select(Conversation.id).where(Conversation.id.in_(ids), Conversation.assigned_to_user_id == user_id)
    )
    return {str(conversation_id) for conversation_id in found}


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def resume_point(cursor: str, last_generated: str | None) -> str:
    """Where to read on from, given the stream's last generated id now (None: the stream does not exist).

    A Redis that came back empty, or from an older snapshot, generates ids from its own clock: they could sort
    below `cursor` and be missed. Reading from what it holds now resends nothing it held before (ids only grow)."""
    if last_generated is None:
        return STREAM_START
    return last_generated if stream_order(last_generated) < stream_order(cursor) else cursor


def last_generated(client: redis.Redis) -> str | None:
    """The stream's last generated id; None when it does not exist (nothing published, or Redis came back empty)."""
    try:
        return client.xinfo_stream(stream_key())["last-generated-id"]
    except redis.ResponseError:
        return None


def read_after(client: redis.Redis, since: str, limit: int) -> tuple[list[LiveEvent], str, bool]:
    """Up to `limit` events after `since` (exclusive), the id to read on from, and whether more are waiting."""
    start = resume_point(since, last_generated(client))
    entries = client.xrange(stream_key(), min=f"({start}", max="+", count=limit)
    return parse_entries(entries), entries[-1][0] if entries else start, len(entries) == limit

"""A secretary writes to the patient herself, and hands the chat back to the bot when she is done.

A reply is stored under its idempotency key and committed before WAHA is called (shared/conversations/outbound.py),
so a request repeated with the same key answers the stored message and sends only what has not gone out yet
(after a WAHA failure, that is the retry). Sending sets `human_takeover_at`: the bot stays silent while a person
leads (shared/assistant/batch.py `silence_reason`), until `resume_bot` clears it or the person goes idle.

A contact who opted out gets nothing (LGPD): a reply to them is refused with 409 instead of stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.cache import get_redis, key
from shared.conversations.models import Conversation, ConversationMessage, MessageKind, SenderKind
from shared.conversations.outbound import Draft, Typing, send_stored, store_outbound
from shared.conversations.schemas import ConversationOut, MediaAttachment, SecretaryMessageCreate
from shared.conversations.service import AUDIT_ENTITY, conversation_item, visible_conversation
from shared.db import session_scope, utcnow
from shared.errors import BadGateway, Conflict, FieldError, ServiceUnavailable, ValidationFailed
from shared.templates.models import ScriptedMessage
from shared.templates.rendering import variables_in
from shared.templates.service import template_drafts
from shared.whatsapp.client import WahaClient
from shared.whatsapp.errors import WahaError

IDEMPOTENCY_HEADER = "Idempotency-Key"
REF_PREFIX = "secretary"
# Longer than a slow send (WAHA's timeout is 30 s); it frees itself if the process dies mid-request.
KEY_LOCK_SECONDS = 120
OPTED_OUT = "The contact opted out of messages (LGPD); nothing is sent to them"
_M = ConversationMessage


@dataclass(frozen=True)
class Reply:
    """The stored messages of one reply, in order, and whether an earlier request had stored them."""

    messages: list[ConversationMessage]
    idempotency_key: str
    replayed: bool


def send_secretary_message(
    actor: Principal, conversation_id: uuid.UUID, data: SecretaryMessageCreate, idempotency_key: str, waha: WahaClient
) -> Reply:
    """Store the secretary's message under `idempotency_key`, then send whatever of it has not gone out."""
    with _exclusive(idempotency_key):
        with session_scope() as session:
            refs, replayed = _store(session, actor, conversation_id, data, idempotency_key)
        try:
            for ref in refs:
                send_stored(ref, waha, Typing())  # no "typing..." pause: a person wrote this, and waits for it
        except WahaError as exc:
            raise BadGateway(
                f"WhatsApp did not take the message ({type(exc).__name__}); it is stored, and repeating this "
                f"request with {IDEMPOTENCY_HEADER}: {idempotency_key} sends it",
                headers={IDEMPOTENCY_HEADER: idempotency_key},
            ) from exc
    with session_scope() as session:
        rows = {row.client_ref: row for row in session.scalars(select(_M).where(_M.client_ref.in_(refs)))}
    return Reply([rows[ref] for ref in refs], idempotency_key, replayed)


def resume_bot(session: Session, actor: Principal, conversation_id: uuid.UUID) -> ConversationOut:
    """End the human takeover so that the bot answers the patient's next message (audited)."""
    conversation = visible_conversation(session, actor, conversation_id, lock=True)
    if conversation.human_takeover_at is not None:
        record_audit(session, actor, "conversation.bot_resumed", AUDIT_ENTITY, conversation.id,
                     before={"human_takeover_at": conversation.human_takeover_at.isoformat()},
                     after={"human_takeover_at": None})  # fmt: skip
        conversation.human_takeover_at = None
    return conversation_item(session, conversation.id)


@contextmanager
def _exclusive(idempotency_key: str) -> Iterator[None]:
    """One request per key at a time: two at once would both find the message unsent and both send it."""
    lock = get_redis().lock(key("lock", "secretary-reply", idempotency_key), timeout=KEY_LOCK_SECONDS)
    try:
        acquired = lock.acquire(blocking=False)
    except redis.RedisError:
        raise ServiceUnavailable("Redis is unavailable; retry later", headers={"Retry-After": "5"}) from None
    if not acquired:
        raise Conflict(f"A request with this {IDEMPOTENCY_HEADER} is still running; retry in a moment")
    try:
        yield
    finally:
        with suppress(redis.RedisError):  # expired, or Redis gone: either way the lock frees itself
            lock.release()


def _store(
    session: Session, actor: Principal, conversation_id: uuid.UUID, data: SecretaryMessageCreate, idempotency_key: str
) -> tuple[list[str], bool]:
    """The client refs to send, oldest first, and whether they were stored by an earlier request."""
    conversation = visible_conversation(session, actor, conversation_id, lock=True)
    prefix = f"{REF_PREFIX}:{idempotency_key}:"
    stored = session.execute(
        select(_M.client_ref, _M.conversation_id, _M.sent_at, _M.waha_message_id).where(
            _M.client_ref.startswith(prefix, autoescape=True)
        )
    ).all()
    if any(row.conversation_id != conversation.id for row in stored):
        raise Conflict(f"This {IDEMPOTENCY_HEADER} was used for another conversation")
    if stored:
        refs = sorted((row.client_ref for row in stored), key=lambda ref: int(ref.rsplit(":", 1)[1]))
        if any(row.sent_at is None and row.waha_message_id is None for row in stored):
            _take_over(conversation)  # a retry after a failed send: it is about to go out
        return refs, True
    _take_over(conversation)
    drafts = _drafts(session, data)
    refs = [f"{prefix}{part}" for part in range(len(drafts))]
    for ref, draft in zip(refs, drafts, strict=True):
        store_outbound(session, conversation.id, ref, draft, sender=SenderKind.SECRETARY, sender_user_id=actor.user_id)
    return refs, False


def _take_over(conversation: Conversation) -> None:
    if conversation.opted_out_at is not None:
        raise Conflict(OPTED_OUT)
    now = utcnow()
    conversation.human_takeover_at = now  # the bot stays quiet while a person leads
    conversation.last_message_at = max(filter(None, [conversation.last_message_at, now]))


def _drafts(session: Session, data: SecretaryMessageCreate) -> list[Draft]:
    if data.text is not None:
        return [Draft(body=data.text)]
    if data.media is not None:
        return [_media_draft(data.media)]
    return _template_drafts(session, data.template or "", data.variables or {})


def _media_draft(media: MediaAttachment) -> Draft:
    family = media.mimetype.split("/", 1)[0].lower()
    kind = {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.VOICE}.get(
        family, MessageKind.DOCUMENT
    )
    return Draft(kind, media.caption, media_url=str(media.url), media_mimetype=media.mimetype,
                 media_filename=media.filename)  # fmt: skip


def _template_drafts(session: Session, name: str, variables: dict[str, object]) -> list[Draft]:
    """The active template's messages; 422 if there is none by that name or a {{variable}} is missing."""
    template = session.scalars(
        select(ScriptedMessage)
        .where(ScriptedMessage.name == name, ScriptedMessage.is_active)
        .options(selectinload(ScriptedMessage.media))
    ).one_or_none()
    if template is None:
        raise ValidationFailed([FieldError("template", "no active template has this name")])
    texts = [template.body or ""] + [item.caption or "" for item in template.media]
    missing = [var for var in dict.fromkeys(v for text in texts for v in variables_in(text)) if var not in variables]
    if missing:
        raise ValidationFailed([FieldError("variables", "missing: " + ", ".join(missing))])
    drafts = template_drafts(session, name, variables)
    if not drafts:
        raise ValidationFailed([FieldError("template", "this template has nothing to send")])
    return drafts

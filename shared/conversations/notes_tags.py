"""Internal notes on conversations (card 104) and the tags that organise them (card 103).

Both follow the conversations' visibility rule (`visible_conversation`): a USER reaches only the conversations
assigned to her, anything else is 404. A note is changed only by its author or an ADMIN; a colleague who can
see the conversation but did not write the note gets 403.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import ConversationNote, ConversationTag, Tag
from shared.conversations.notes_schemas import (
    ConversationTagsOut,
    NoteCreate,
    NoteOut,
    NoteUpdate,
    TagCreate,
    TagOut,
)
from shared.conversations.service import visible_conversation
from shared.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from shared.names import name_key
from shared.pagination import Page, PageQuery, paginate

NOTE_ENTITY = "conversation_note"
TAG_ENTITY = "tag"


def list_notes(session: Session, actor: Principal, conversation_id: uuid.UUID, query: PageQuery) -> Page[NoteOut]:
    """The conversation's notes, newest first."""
    visible_conversation(session, actor, conversation_id)
    statement = (
        select(ConversationNote)
        .where(ConversationNote.conversation_id == conversation_id)
        .order_by(ConversationNote.created_at.desc(), ConversationNote.id.desc())
    )
    return paginate(session, statement, query, NoteOut.model_validate)


def add_note(session: Session, actor: Principal, conversation_id: uuid.UUID, note: NoteCreate) -> NoteOut:
    """A new note by `actor`; anyone who can see the conversation may write one."""
    visible_conversation(session, actor, conversation_id)
    row = ConversationNote(conversation_id=conversation_id, user_id=actor.user_id, body=note.body)
    session.add(row)
    session.flush()
    return NoteOut.model_validate(row)


def _own_note(session: Session, actor: Principal, conversation_id: uuid.UUID, note_id: uuid.UUID) -> ConversationNote:
    visible_conversation(session, actor, conversation_id)
    note = session.scalars(
        select(ConversationNote)
        .where(ConversationNote.id == note_id, ConversationNote.conversation_id == conversation_id)
        .with_for_update()
    ).one_or_none()
    if note is None:
        raise NotFound("Note not found")
    if not (actor.is_admin or note.user_id == actor.user_id):
        raise Forbidden("Only the note's author or an ADMIN may change it")
    return note


def update_note(
    session: Session, actor: Principal, conversation_id: uuid.UUID, note_id: uuid.UUID, change: NoteUpdate
) -> NoteOut:
    """Rewrite a note (its author or an ADMIN); audited with the old and new text."""
    note = _own_note(session, actor, conversation_id, note_id)
    before = note.body
    if change.body != before:
        note.body = change.body
        session.flush()
        record_audit(session, actor, "conversation_note.updated", NOTE_ENTITY, note.id,
                     before={"body": before}, after={"body": note.body})  # fmt: skip
    return NoteOut.model_validate(note)


def delete_note(session: Session, actor: Principal, conversation_id: uuid.UUID, note_id: uuid.UUID) -> None:
    """Delete a note (its author or an ADMIN); audited with what it said and who wrote it."""
    note = _own_note(session, actor, conversation_id, note_id)
    author = str(note.user_id) if note.user_id else None
    record_audit(session, actor, "conversation_note.deleted", NOTE_ENTITY, note.id,
                 before={"body": note.body, "user_id": author, "conversation_id": str(conversation_id)})  # fmt: skip
    session.delete(note)


def list_tags(session: Session, query: PageQuery) -> Page[TagOut]:
    """Every tag, by name."""
    return paginate(session, select(Tag).order_by(Tag.name_key), query, TagOut.model_validate)


def create_tag(session: Session, actor: Principal, tag: TagCreate) -> TagOut:
    """A new tag (ADMIN, checked by the route); a name already taken in any case is 409."""
    name = " ".join(tag.name.split())
    key = name_key(name)
    taken = f"A tag named {name!r} already exists"
    if session.scalar(select(Tag.id).where(Tag.name_key == key)) is not None:
        raise Conflict(taken)
    row = Tag(name=name, name_key=key, color=tag.color, created_by_user_id=actor.user_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # two admins creating the same name at once: the unique key decides
        raise Conflict(taken) from None
    record_audit(session, actor, "tag.created", TAG_ENTITY, row.id, after={"name": name, "color": row.color})
    return TagOut.model_validate(row)


def delete_tag(session: Session, actor: Principal, tag_id: uuid.UUID) -> None:
    """Delete a tag, and with it its place on every conversation (ADMIN, checked by the route); audited."""
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound("Tag not found")
    record_audit(session, actor, "tag.deleted", TAG_ENTITY, tag.id, before={"name": tag.name, "color": tag.color})
    session.delete(tag)


def conversation_tags(session: Session, actor: Principal, conversation_id: uuid.UUID) -> ConversationTagsOut:
    """The tags on a conversation `actor` can see, by name."""
    visible_conversation(session, actor, conversation_id)
    return _tags_of(session, conversation_id)


def tag_conversation(
    session: Session, actor: Principal, conversation_id: uuid.UUID, tag_id: uuid.UUID
) -> tuple[bool, ConversationTagsOut]:
    """Put a tag on a conversation; True if it was not there yet (tagging twice changes nothing)."""
    visible_conversation(session, actor, conversation_id)
    if session.get(Tag, tag_id) is None:
        raise ValidationFailed([FieldError("tag_id", "must be the id of an existing tag")])
    added = session.execute(
        insert(ConversationTag)
        .values(conversation_id=conversation_id, tag_id=tag_id, tagged_by_user_id=actor.user_id)
        .on_conflict_do_nothing()
    )
    return added.rowcount == 1, _tags_of(session, conversation_id)


def untag_conversation(session: Session, actor: Principal, conversation_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    """Take a tag off a conversation; one that is not on it is already off (an unknown tag is 404)."""
    visible_conversation(session, actor, conversation_id)
    if session.get(Tag, tag_id) is None:
        raise NotFound("Tag not found")
    link = session.get(ConversationTag, (conversation_id, tag_id))
    if link is not None:
        session.delete(link)


def _tags_of(session: Session, conversation_id: uuid.UUID) -> ConversationTagsOut:
    tags = session.scalars(
        select(Tag)
        .join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(Tag.name_key)
    ).all()
    return ConversationTagsOut(conversation_id=conversation_id, tags=[TagOut.model_validate(tag) for tag in tags])

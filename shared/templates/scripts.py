"""CRUD of the seed's scripted multimedia messages (text, media and location scripts; cards 086, 087).

What a script must hold depends on its kind, and a change is checked on the script it would make: a PATCH that
turns a TEXT into an IMAGE without files is refused like a POST would be.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.models import MessageKind
from shared.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared.pagination import Page, paginate
from shared.templates.models import MessageLocation, MessageMedia, ScriptedMessage
from shared.templates.rendering import variables_in
from shared.templates.script_schemas import (
    ScriptCreate,
    ScriptKind,
    ScriptListQuery,
    ScriptLocation,
    ScriptMedia,
    ScriptMediaOut,
    ScriptOut,
    ScriptUpdate,
)

ENTITY = "scripted_message"
# The mimetype family each media kind accepts; a DOCUMENT may be any file.
MEDIA_FAMILIES = {ScriptKind.IMAGE: "image", ScriptKind.VIDEO: "video", ScriptKind.AUDIO: "audio",
                  ScriptKind.VOICE: "audio", ScriptKind.DOCUMENT: None}  # fmt: skip


def list_scripts(session: Session, query: ScriptListQuery) -> Page[ScriptOut]:
    """Scripts by name, filtered by text, kind and state."""
    statement = select(ScriptedMessage).options(*_loads()).order_by(ScriptedMessage.name)
    if query.search:
        statement = statement.where(or_(ScriptedMessage.name.icontains(query.search, autoescape=True),
                                        ScriptedMessage.body.icontains(query.search, autoescape=True)))  # fmt: skip
    if query.kind is not None:
        statement = statement.where(ScriptedMessage.kind == MessageKind(query.kind.value))
    if query.is_active is not None:
        statement = statement.where(ScriptedMessage.is_active.is_(query.is_active))
    return paginate(session, statement, query, script_out)


def get_script(session: Session, script_id: uuid.UUID) -> ScriptOut:
    """One script with its files or place."""
    return script_out(_script(session, script_id))


def create_script(session: Session, actor: Principal, data: ScriptCreate) -> ScriptOut:
    """A new script; 422 when it does not hold what its kind needs, 409 when the name is taken. Audited."""
    _check(data.kind, data.body, data.media, data.location)
    name = " ".join(data.name.split())
    _ensure_free(session, name)
    row = ScriptedMessage(name=name, kind=MessageKind(data.kind.value), body=data.body, is_active=data.is_active,
                          created_by_user_id=actor.user_id)  # fmt: skip
    _set_content(row, data.media, data.location)
    session.add(row)
    _flush_unique(session, name)
    record_audit(session, actor, f"{ENTITY}.created", ENTITY, row.id, after=_snapshot(row))
    return script_out(row)


def update_script(session: Session, actor: Principal, script_id: uuid.UUID, change: ScriptUpdate) -> ScriptOut:
    """Change the fields given and check the script that results; audited with before and after."""
    row = _script(session, script_id, lock=True)
    before = _snapshot(row)
    given = change.model_dump(exclude_unset=True)
    kind = change.kind or ScriptKind(row.kind.value)
    body = change.body if "body" in given else row.body
    if change.media is not None:
        media = change.media
    else:  # the files stay while the kind still sends files; a new kind without them drops them
        media = [_media_of(m) for m in row.media] if kind in MEDIA_FAMILIES else []
    kept_location = _location_of(row) if kind == ScriptKind.LOCATION else None
    location = change.location if "location" in given else kept_location
    _check(kind, body, media, location)
    if change.name is not None and " ".join(change.name.split()) != row.name:
        name = " ".join(change.name.split())
        _ensure_free(session, name, exclude=row.id)
        row.name = name
    row.kind, row.body = MessageKind(kind.value), body
    if change.is_active is not None:
        row.is_active = change.is_active
    _set_content(row, media, location)
    if _snapshot(row) != before:
        _flush_unique(session, row.name)
        record_audit(session, actor, f"{ENTITY}.updated", ENTITY, row.id, before=before, after=_snapshot(row))
    return script_out(row)


def delete_script(session: Session, actor: Principal, script_id: uuid.UUID) -> None:
    """Delete a script with its files and place; audited with what it held."""
    row = _script(session, script_id, lock=True)
    record_audit(session, actor, f"{ENTITY}.deleted", ENTITY, row.id, before=_snapshot(row))
    session.delete(row)


def script_out(row: ScriptedMessage) -> ScriptOut:
    texts = [row.body or ""] + [item.caption or "" for item in row.media]
    return ScriptOut(
        id=row.id,
        name=row.name,
        kind=ScriptKind(row.kind.value),
        body=row.body,
        variables=list(dict.fromkeys(v for text in texts for v in variables_in(text))),
        media=[ScriptMediaOut.model_validate(m) for m in row.media],
        location=_location_of(row),
        is_active=row.is_active,
        created_by_user_id=row.created_by_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check(kind: ScriptKind, body: str | None, media: list[ScriptMedia], location: ScriptLocation | None) -> None:
    """422 unless the script holds exactly what its kind sends."""
    errors: list[FieldError] = []
    if kind == ScriptKind.TEXT and not body:
        errors.append(FieldError("body", "a TEXT script needs a body"))
    if kind in MEDIA_FAMILIES:
        if not media:
            errors.append(FieldError("media", f"a {kind.value} script needs 1 to 10 files"))
        family = MEDIA_FAMILIES[kind]
        errors += [
            FieldError(f"media.{i}.mimetype", f"a {kind.value} script sends {family}/* files, not {item.mimetype}")
            for i, item in enumerate(media)
            if family and item.mimetype.split("/", 1)[0].lower() != family
        ]
    elif media:
        errors.append(FieldError("media", f"a {kind.value} script has no files"))
    if kind == ScriptKind.LOCATION and location is None:
        errors.append(FieldError("location", "a LOCATION script needs latitude and longitude"))
    if kind != ScriptKind.LOCATION and location is not None:
        errors.append(FieldError("location", f"a {kind.value} script has no location"))
    if errors:
        raise ValidationFailed(errors)


def _set_content(row: ScriptedMessage, media: list[ScriptMedia], location: ScriptLocation | None) -> None:
    wanted = [(str(m.url), m.mimetype, m.filename, m.caption) for m in media]
    if wanted != [(m.url, m.mimetype, m.filename, m.caption) for m in row.media]:
        row.media = [MessageMedia(url=url, mimetype=mimetype, filename=filename, caption=caption, position=i)
                     for i, (url, mimetype, filename, caption) in enumerate(wanted)]  # fmt: skip
    if location is None:
        row.location = None
    elif row.location is None:
        row.location = MessageLocation(**location.model_dump())
    else:  # changed in place: a new row would be inserted before the old one is deleted, breaking the unique key
        for field, value in location.model_dump().items():
            setattr(row.location, field, value)


# Stored rows are read without re-validation: a seeded script that would not pass today's checks must still load.
def _media_of(item: MessageMedia) -> ScriptMedia:
    return ScriptMedia.model_construct(url=item.url, mimetype=item.mimetype, filename=item.filename,
                                       caption=item.caption)  # fmt: skip


def _location_of(row: ScriptedMessage) -> ScriptLocation | None:
    place = row.location
    if place is None:
        return None
    return ScriptLocation.model_construct(latitude=place.latitude, longitude=place.longitude, name=place.name,
                                          address=place.address)  # fmt: skip


def _loads() -> list[Any]:
    return [selectinload(ScriptedMessage.media), selectinload(ScriptedMessage.location)]


def _script(session: Session, script_id: uuid.UUID, *, lock: bool = False) -> ScriptedMessage:
    statement = select(ScriptedMessage).where(ScriptedMessage.id == script_id).options(*_loads())
    row = session.scalars(statement.with_for_update() if lock else statement).one_or_none()
    if row is None:
        raise NotFound("Scripted message not found")
    return row


def _ensure_free(session: Session, name: str, exclude: uuid.UUID | None = None) -> None:
    """Names differing only in case would confuse the assistant, which picks scripts by name."""
    statement = select(ScriptedMessage.id).where(func.lower(ScriptedMessage.name) == name.lower())
    if exclude is not None:
        statement = statement.where(ScriptedMessage.id != exclude)
    if session.scalar(statement) is not None:
        raise Conflict(f"A scripted message named {name!r} already exists")


def _flush_unique(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:  # two people saving the same name at once: the unique key decides
        raise Conflict(f"A scripted message named {name!r} already exists") from None


def _snapshot(row: ScriptedMessage) -> dict[str, Any]:
    return script_out(row).model_dump(mode="json", include={"name", "kind", "body", "is_active", "media", "location"})

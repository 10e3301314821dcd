"""The scripted multimedia messages as the assistant uses them (cards 086, 087)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.assistant.providers import TemplateOption
from shared.conversations.models import MessageKind
from shared.conversations.outbound import Draft
from shared.templates.models import ScriptedMessage
from shared.templates.rendering import render


def active_templates(session: Session) -> list[TemplateOption]:
    """The scripted messages the assistant may choose, by name."""
    rows = session.execute(
        select(ScriptedMessage.name, ScriptedMessage.kind, ScriptedMessage.body)
        .where(ScriptedMessage.is_active)
        .order_by(ScriptedMessage.name)
    ).all()
    return [TemplateOption(name, kind.value, body) for name, kind, body in rows]


def template_drafts(session: Session, name: str, variables: Mapping[str, object]) -> list[Draft] | None:
    """The messages that send the active template `name`, variables filled; None when there is no such one."""
    template = session.scalars(
        select(ScriptedMessage)
        .where(ScriptedMessage.name == name, ScriptedMessage.is_active)
        .options(selectinload(ScriptedMessage.media), selectinload(ScriptedMessage.location))
    ).one_or_none()
    if template is None:
        return None
    body = render(template.body, variables, strict=False) if template.body else None
    if template.kind == MessageKind.LOCATION and template.location is not None:
        place = template.location
        drafts = [
            Draft(
                MessageKind.LOCATION,
                body,
                latitude=place.latitude,
                longitude=place.longitude,
                location_name=place.name or place.address,
            )
        ]
        return drafts + ([Draft(body=body)] if body else [])
    media = [  # the body is the caption of the first file that has none of its own, not of every file
        Draft(
            template.kind,
            render(item.caption, variables, strict=False) if item.caption else (body if i == 0 else None),
            media_url=item.url,
            media_mimetype=item.mimetype,
            media_filename=item.filename,
        )
        for i, item in enumerate(template.media)
    ]
    return media or ([Draft(body=body)] if body else None)

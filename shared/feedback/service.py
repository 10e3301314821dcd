"""Recording and reading patient feedback (card 134)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.conversations.models import Conversation
from shared.conversations.outbound import send_text_once
from shared.db import session_scope, utcnow
from shared.errors import Conflict, NotFound
from shared.feedback.models import Feedback
from shared.feedback.schemas import FeedbackCreate, FeedbackOut, FeedbackPage, FeedbackQuery, NpsSummary
from shared.feedback.tokens import closing_message, issue_feedback_token, verify_feedback_token
from shared.pagination import paginate
from shared.queue import TaskQueue, get_task_queue
from shared.routing import MESSAGE_PROCESSOR
from shared.whatsapp.client import WahaClient

ALREADY_ANSWERED = "This feedback token was already used"

log = logging.getLogger(__name__)


def record_feedback(session: Session, data: FeedbackCreate, *, now: datetime | None = None) -> Feedback:
    """Store the patient's answer; the token must be valid (401) and unused (409)."""
    claims = verify_feedback_token(data.token, now=now)
    if session.get(Conversation, claims.conversation_id) is None:
        raise NotFound("The conversation of this feedback no longer exists")  # erased (LGPD) after the token left
    if session.scalar(select(exists().where(Feedback.nonce == claims.nonce))):
        raise Conflict(ALREADY_ANSWERED)
    feedback = Feedback(
        conversation_id=claims.conversation_id, nonce=claims.nonce, score=data.score, comment=data.comment or None
    )
    try:
        with session.begin_nested():  # a concurrent answer with the same token loses on the unique nonce
            session.add(feedback)
    except IntegrityError:
        raise Conflict(ALREADY_ANSWERED) from None
    return feedback


def _filters(query: FeedbackQuery) -> list:
    conditions = []
    if query.date_from:
        conditions.append(Feedback.created_at >= query.date_from)
    if query.date_to:
        conditions.append(Feedback.created_at < query.date_to)
    return conditions


def summarize_nps(session: Session, query: FeedbackQuery) -> NpsSummary:
    """Promoters (9-10), passives (7-8), detractors (0-6) and the NPS over the filtered answers."""
    row = session.execute(
        select(
            func.count(),
            func.count(case((Feedback.score >= 9, 1))),
            func.count(case((Feedback.score.between(7, 8), 1))),
            func.count(case((Feedback.score <= 6, 1))),
        ).where(*_filters(query))
    ).one()
    total, promoters, passives, detractors = row
    nps = round(100 * (promoters - detractors) / total, 1) if total else None
    return NpsSummary(total=total, promoters=promoters, passives=passives, detractors=detractors, nps=nps)


def list_feedback(session: Session, query: FeedbackQuery) -> FeedbackPage:
    """Answers newest first, one page, with the NPS of everything the filters select."""
    statement = select(Feedback).where(*_filters(query)).order_by(Feedback.created_at.desc(), Feedback.id.desc())
    page = paginate(session, statement, query, FeedbackOut.model_validate)
    return FeedbackPage(**page.model_dump(), nps=summarize_nps(session, query))


def send_feedback_request(conversation_id: uuid.UUID, closed_at: str, waha: WahaClient | None = None) -> bool:
    """Ask the patient of a closed conversation for a score, once per closing; False when not to ask.

    The message (with its token) is stored under a key of this closing before it is sent, so a retried task sends
    the same words once. A contact who opted out is not asked, nor anyone while PUBLIC_BASE_URL, where the form
    lives, is not set.
    """
    public_base_url = get_settings().public_base_url
    if public_base_url is None:
        log.warning("PUBLIC_BASE_URL is not set: the patient of a closed conversation is not asked for a score")
        return False
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.opted_out_at is not None:
            return False
    waha = waha or WahaClient.from_settings()
    client_ref = f"feedback:{conversation_id}:{closed_at}"
    message = closing_message(issue_feedback_token(conversation_id), public_base_url)
    send_text_once(conversation_id, client_ref, message, waha)
    return True


def request_feedback(conversation_id: uuid.UUID, queue: TaskQueue | None = None) -> bool:
    """Enqueue the request for a score after a conversation was closed (call after the commit).

    The close stands even when the queue is down: the patient is simply not asked (logged)."""
    closed_at = utcnow().strftime("%Y%m%dT%H%M%S")
    payload = {"kind": "feedback_request", "conversation_id": str(conversation_id), "closed_at": closed_at}
    try:
        return (queue or get_task_queue()).enqueue(
            "messages", MESSAGE_PROCESSOR, payload, task_id=f"feedback-{conversation_id}-{closed_at}"
        )
    except Exception:
        log.exception("feedback request not enqueued", extra={"conversation_id": str(conversation_id)})
        return False

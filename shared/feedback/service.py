"""Recording and reading patient feedback (card 134)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.conversations.models import Conversation
from shared.errors import Conflict, NotFound
from shared.feedback.models import Feedback
from shared.feedback.schemas import FeedbackCreate, FeedbackOut, FeedbackPage, FeedbackQuery, NpsSummary
from shared.feedback.tokens import verify_feedback_token
from shared.pagination import paginate

ALREADY_ANSWERED = "This feedback token was already used"


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

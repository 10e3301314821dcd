"""Writing a turn down: the reply to send, the model call's record (card 090), what the turn learned for the
metrics (sentiment, topics, competitors: cards 148, 149, 153), the failure's alert."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.alerts.models import AlertSeverity
from shared.alerts.service import raise_alert
from shared.assistant.batch import Batch
from shared.assistant.competitors import record_mentions
from shared.assistant.costs import cost_of
from shared.assistant.models import LLMInteraction, TurnInsight
from shared.assistant.providers import ProviderAnswer, ProviderError
from shared.assistant.schemas import TurnDecision
from shared.assistant.topics import turn_topics
from shared.conversations.models import Conversation
from shared.conversations.outbound import Draft, store_outbound
from shared.templates.service import template_drafts

if TYPE_CHECKING:
    from shared.knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)


def store_reply(
    session: Session, conversation: Conversation, batch: Batch, decision: TurnDecision, clinic_name: str
) -> int:
    """Store the reply (a chosen template's messages, or the text) under keys of this burst; returns how many."""
    drafts = None
    if decision.template:
        context = conversation.context
        name = (context and context.patient_name) or decision.facts.name or conversation.name or ""
        drafts = template_drafts(session, decision.template, {"nome": name, "clinica": clinic_name})
        if drafts is None:
            log.info("the model chose an unknown template %r; sending its text", decision.template)
    for index, draft in enumerate(drafts or [Draft(body=decision.reply)]):
        store_outbound(session, conversation.id, f"reply:{batch.latest_id}:{index}", draft)
    return len(drafts or [None])


def record_call(session: Session, conversation_id: uuid.UUID, answer: ProviderAnswer, cache_hit: bool) -> None:
    """One row per model call with its tokens, latency and cost; a cache hit made no call and costs nothing."""
    if cache_hit:
        return
    usage = answer.usage
    cost = cost_of(answer.model, usage.prompt_tokens, usage.completion_tokens)
    if cost is None:
        log.warning("no price known for model %r: cost recorded as 0", answer.model)
    session.add(
        LLMInteraction(
            conversation_id=conversation_id,
            provider=answer.provider,
            model_name=answer.model,
            prompt_version=answer.prompt_version,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cost_usd=cost or 0,
            latency_ms=answer.latency_ms,
            prompt=answer.prompt,
            response=answer.response,
        )
    )
    log.info(
        "model call %s %s prompt=%s tokens=%d latency=%dms",
        answer.provider.value,
        answer.model,
        answer.prompt_version,
        usage.total_tokens,
        answer.latency_ms,
    )


def record_insight(
    session: Session,
    conversation: Conversation,
    batch: Batch,
    decision: TurnDecision,
    knowledge_base: KnowledgeBase | None,
) -> list[str]:
    """The turn's sentiment and topics, keyed and dated by the newest message it answered, and the competitors
    the burst names; a retried turn writes nothing twice. Returns the competitors new to the conversation."""
    newest = batch.messages[-1]
    services = knowledge_base.services if knowledge_base else []
    session.execute(
        insert(TurnInsight)
        .values(
            id=uuid.uuid4(),
            conversation_id=conversation.id,
            message_id=newest.id,
            sentiment=decision.sentiment.value,
            sentiment_score=round(decision.sentiment_score, 3),
            intent=decision.intent.value,
            topics=turn_topics(decision, [m.body for m in batch.messages if m.body], services),
            created_at=newest.created_at,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
    )
    return record_mentions(session, conversation, batch)


def record_failure(session: Session, conversation_id: uuid.UUID, error: ProviderError, failures: int) -> None:
    """The failed call's record and an alert for the owner."""
    session.add(
        LLMInteraction(
            conversation_id=conversation_id,
            provider=error.provider,
            model_name=error.model,
            prompt_version=error.prompt_version,
            latency_ms=error.latency_ms,
            error=str(error)[:2000],
        )
    )
    raise_alert(
        session,
        "llm_failure",
        AlertSeverity.WARNING if failures < 3 else AlertSeverity.CRITICAL,
        f"O assistente não conseguiu responder ({error}).",
        conversation_id=str(conversation_id),
        failures_in_a_row=failures,
    )

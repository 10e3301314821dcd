"""What a decision changes in the clinic's data: facts, urgency, the lead and its score, the handoff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.assistant.handoff import hand_off, mark_urgent
from shared.assistant.schemas import SCHEDULING_INTENTS, Intent, TurnDecision
from shared.config import Settings
from shared.conversations.models import Conversation, ConversationContext
from shared.leads.models import Lead


def apply_decision(
    session: Session, conversation: Conversation, decision: TurnDecision, settings: Settings
) -> list[str]:
    """Act on one turn's decision; returns what happened, for the log."""
    events = []
    context = _context_of(session, conversation)
    merge_facts(context, decision)
    urgent_now = decision.is_urgent and not conversation.is_urgent
    reason = handoff_reason(decision, settings.handoff_confidence_threshold)
    if reason is not None:
        scheduling = decision.intent in SCHEDULING_INTENTS
        hand_off(
            session,
            conversation,
            reason,
            create_lead=scheduling,
            patient_name=context.patient_name,
            maturity=decision.maturity.score,
            notify=not urgent_now,
        )
        events.append(f"handoff:{reason}")
        if scheduling:
            context.intent_detected = True
            context.intent_type = decision.intent.value
            events.append("lead")
    if urgent_now:  # after the handoff, so that the priority notification reaches the assigned secretary
        mark_urgent(session, conversation, decision.urgency_reason)
        events.append("urgent")
    lead = session.scalars(select(Lead).where(Lead.conversation_id == conversation.id)).one_or_none()
    if lead is not None and lead.deleted_at is None:
        lead.maturity_score = decision.maturity.score  # the score follows every turn (card 085)
    return events


def handoff_reason(decision: TurnDecision, confidence_threshold: float) -> str | None:
    """Why this decision puts the patient in a secretary's hands, or None."""
    if decision.intent in SCHEDULING_INTENTS and decision.confidence >= confidence_threshold:
        return decision.intent.value
    if decision.is_urgent:
        return "urgent"
    if decision.intent is Intent.COMPLAINT:
        return "complaint"
    if decision.confidence < confidence_threshold:
        return "low_confidence"
    if decision.handoff or decision.intent is Intent.OPT_OUT:  # opting out is decided by the consent rules only
        return "model_requested"
    return None


def merge_facts(context: ConversationContext, decision: TurnDecision) -> None:
    """Add what the patient told us to the stored facts (JSONB), keeping what we knew."""
    facts = decision.facts
    if facts.name:
        context.patient_name = facts.name
    context.symptoms = _union(context.symptoms, facts.symptoms)
    context.concerns = _union(context.concerns, facts.concerns)
    context.preferences = {
        **(context.preferences or {}),
        "items": _union((context.preferences or {}).get("items", []), facts.preferences),
    }
    maturity = decision.maturity
    context.facts = {
        **(context.facts or {}),
        "last_intent": decision.intent.value,
        "maturity": {
            "score": maturity.score,
            "engagement": maturity.engagement,
            "interest_clarity": maturity.interest_clarity,
            "objections": maturity.objections,
        },
    }


def stored_facts(context: ConversationContext | None) -> dict[str, Any]:
    """The facts as the model reads them."""
    if context is None:
        return {}
    known = {
        "nome": context.patient_name,
        "sintomas": context.symptoms,
        "preocupacoes": context.concerns,
        "preferencias": (context.preferences or {}).get("items", []),
    }
    return {name: value for name, value in known.items() if value}


def _context_of(session: Session, conversation: Conversation) -> ConversationContext:
    context = session.scalars(
        select(ConversationContext).where(ConversationContext.conversation_id == conversation.id)
    ).one_or_none()
    if context is None:
        context = ConversationContext(
            conversation_id=conversation.id, symptoms=[], concerns=[], preferences={}, facts={}
        )
        session.add(context)
    return context


def _union(old: list | None, new: list[str]) -> list:
    merged = list(old or [])
    merged.extend(item for item in new if item and item not in merged)
    return merged

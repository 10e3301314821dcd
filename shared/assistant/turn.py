"""One turn of conversation: from a patient's unanswered messages to one reply, a lead and a handoff.

Under the conversation's lock (two turns of one chat never overlap):
  1. send whatever an earlier run of this turn stored and could not send (a retry never decides twice);
  2. load the unanswered burst, or leave it to the task of its newest message (debounce);
  3. stay silent when a person took over, the contact opted out, or maintenance is on;
  4. opt the contact out (or back in) when they ask;
  5. decide: the response cache, else one provider call within the daily budget (else hand off);
  6. commit the reply, the call's record, what the turn learned (sentiment, topics, competitor mentions) and the
     decision's outcomes in one transaction;
  7. send the reply the way WAHA recommends, then remember what the patient said, for retrieval.
A provider failure sends one apology per turn, keeps the task for a retry, raises an alert, and after three
failed calls in a row hands the conversation to a secretary.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from shared.assistant import budget, response_cache
from shared.assistant.batch import Batch, load_batch, mark_processed, recent_history, silence_reason
from shared.assistant.competitors import record_mentions
from shared.assistant.consent import OPT_OUT_CONFIRMATION, is_opt_in, is_opt_out
from shared.assistant.context import TurnServices, build_request, remember_messages
from shared.assistant.handoff import hand_off
from shared.assistant.outcomes import apply_decision
from shared.assistant.providers import ProviderAnswer, ProviderError, TurnRequest, Usage
from shared.assistant.recording import record_call, record_failure, record_insight, store_reply
from shared.assistant.schemas import TurnDecision
from shared.conversations.models import Conversation
from shared.conversations.outbound import Draft, deliver_pending, store_outbound
from shared.conversations.turns import conversation_lock
from shared.db import session_scope, utcnow

log = logging.getLogger(__name__)
FAILURES_BEFORE_HANDOFF = 3
RETRY_AFTER_FAILURE_SECONDS = 5
FALLBACK_MESSAGE = (
    "Desculpe, tive um probleminha para responder agora. 🙏 Já estou tentando de novo, e se preferir uma "
    "pessoa da nossa equipe fala com você em instantes."
)
BUDGET_MESSAGE = (
    "Vou pedir para uma pessoa da nossa equipe continuar o seu atendimento, tudo bem? Já já ela te responde. 😊"
)
OPT_IN_MESSAGE = "Que bom ter você de volta! 😊 Voltamos a responder por aqui. Em que posso ajudar?"


class TurnFailed(Exception):
    """The provider failed; the turn should run again after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class TurnOutcome:
    note: str  # replied, superseded, nothing, opted_out, human_takeover, llm_budget, llm_failures, ...
    sent: int = 0
    events: list[str] = field(default_factory=list)
    remember: Callable[[], None] | None = None  # keeps the messages in conversation memory


def run_turn(conversation_id: uuid.UUID, message_id: uuid.UUID | None, services: TurnServices) -> TurnOutcome:
    """Answer the conversation's unanswered messages once; see the module's docstring for the steps."""
    with conversation_lock(conversation_id):
        sent = len(deliver_pending(conversation_id, services.waha, services.typing))
        try:
            outcome = _decide_and_commit(conversation_id, message_id, services)
        finally:  # a failed turn's apology goes out too
            sent += len(deliver_pending(conversation_id, services.waha, services.typing))
        outcome.sent = sent
        if outcome.remember is not None:  # after the send: the patient does not wait for it
            outcome.remember()
    log.info(
        "turn %s: %d sent %s",
        outcome.note,
        outcome.sent,
        ",".join(outcome.events),
        extra={"conversation_id": str(conversation_id)},
    )
    return outcome


def _decide_and_commit(conversation_id: uuid.UUID, message_id: uuid.UUID | None, services: TurnServices) -> TurnOutcome:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        batch = load_batch(session, conversation_id, message_id) if conversation else None
        if batch is None:
            return TurnOutcome("superseded" if conversation and message_id else "nothing")
        consent = _consent(session, conversation, batch)
        if consent is not None:
            return TurnOutcome(consent)
        reason = silence_reason(session, conversation, services.settings)
        if reason is not None:  # nobody answers now, but a competitor named is still worth knowing
            mentioned = record_mentions(session, conversation, batch)
            mark_processed(session, batch, reason)
            return TurnOutcome(reason, events=[f"competitor:{name}" for name in mentioned])
        knowledge_base = services.knowledge()
        key, cached = _cached_decision(batch, services, knowledge_base)
        history = recent_history(session, conversation_id, batch, services.settings.assistant_history_messages)
        request = build_request(session, conversation, batch, services, history, knowledge_base, retrieve=not cached)
    try:
        answer, cache_hit = _decide(request, services, key, cached)
    except ProviderError as exc:
        return _provider_failed(conversation_id, batch, exc)
    if answer is None:
        return _over_budget(conversation_id, batch)
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id, with_for_update=True)
        store_reply(session, conversation, batch, answer.decision, request.clinic_name)
        record_call(session, conversation_id, answer, cache_hit)
        mentioned = record_insight(session, conversation, batch, answer.decision, request.knowledge_base)
        events = apply_decision(session, conversation, answer.decision, services.settings)
        mark_processed(session, batch, "replied")
    events += [f"competitor:{name}" for name in mentioned] + (["cache_hit"] if cache_hit else [])
    return TurnOutcome(
        "replied",
        events=events,
        remember=lambda: remember_messages(services, conversation_id, batch),
    )


def _cached_decision(batch: Batch, services: TurnServices, knowledge_base) -> tuple[str, TurnDecision | None]:
    """The response cache's key for this burst and its answer, looked up before any retrieval is paid for."""
    version = knowledge_base.version if knowledge_base else None
    key = response_cache.cache_key("\n".join(batch.texts), services.provider.prompt_version, version)
    enabled = services.settings.response_cache_ttl_seconds > 0
    return key, response_cache.lookup(key) if enabled else None


def _decide(
    request: TurnRequest, services: TurnServices, key: str, cached: TurnDecision | None
) -> tuple[ProviderAnswer | None, bool]:
    """The cached decision or the provider's; (None, False) when the daily budget is spent."""
    provider, settings = services.provider, services.settings
    if cached is not None:
        return ProviderAnswer(cached, provider.kind, "cache", provider.prompt_version, Usage(), 0), True
    if not budget.take_model_call(request.conversation_id, settings.llm_daily_call_limit):
        return None, False
    answer = provider.decide(request)
    budget.clear_failures(request.conversation_id)
    response_cache.store(key, answer.decision, settings.response_cache_ttl_seconds)
    return answer, False


def _provider_failed(conversation_id: uuid.UUID, batch: Batch, error: ProviderError) -> TurnOutcome:
    failures = budget.record_failures(conversation_id, error.failed_calls)
    with session_scope() as session:
        record_failure(session, conversation_id, error, failures)
        store_outbound(session, conversation_id, f"fallback:{batch.latest_id}", Draft(body=FALLBACK_MESSAGE))
        if failures >= FAILURES_BEFORE_HANDOFF:
            conversation = session.get(Conversation, conversation_id, with_for_update=True)
            hand_off(session, conversation, "llm_failures", create_lead=False)
            record_mentions(session, conversation, batch)
            mark_processed(session, batch, "llm_failures")
    if failures >= FAILURES_BEFORE_HANDOFF:
        budget.clear_failures(conversation_id)
        return TurnOutcome("llm_failures", events=["fallback", "handoff:llm_failures"])
    raise TurnFailed(str(error), RETRY_AFTER_FAILURE_SECONDS)


def _over_budget(conversation_id: uuid.UUID, batch: Batch) -> TurnOutcome:
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id, with_for_update=True)
        hand_off(session, conversation, "llm_budget", create_lead=False)
        store_outbound(session, conversation_id, f"budget:{conversation_id}:{date.today()}", Draft(body=BUDGET_MESSAGE))
        record_mentions(session, conversation, batch)
        mark_processed(session, batch, "llm_budget")
    return TurnOutcome("llm_budget", events=["handoff:llm_budget"])


def _consent(session, conversation: Conversation, batch: Batch) -> str | None:
    """Opt the contact out (once confirmed) or back in; the note when the turn ends here."""
    text = batch.patient_text
    if conversation.opted_out_at is None and is_opt_out(text):
        conversation.opted_out_at = utcnow()
        store_outbound(session, conversation.id, f"optout:{batch.latest_id}", Draft(body=OPT_OUT_CONFIRMATION))
        mark_processed(session, batch, "opted_out")
        return "opted_out"
    if conversation.opted_out_at is not None and is_opt_in(text):
        conversation.opted_out_at = None
        store_outbound(session, conversation.id, f"optin:{batch.latest_id}", Draft(body=OPT_IN_MESSAGE))
        mark_processed(session, batch, "opted_in")
        return "opted_in"
    return None

"""Which quick replies fit a conversation right now (card 122), best first.

The context comes from what the patient said last (keywords, accents and case ignored, the newest message
weighing most) and from the intent the assistant recorded last. A reply scores by the contexts it shares with
the conversation, and more when it answers the recorded intent; ties go to the most used reply.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shared.assistant.models import LLMInteraction
from shared.assistant.schemas import Intent
from shared.auth import Principal
from shared.conversations.models import ConversationContext, ConversationMessage, MessageDirection
from shared.errors import FieldError, ValidationFailed
from shared.templates.catalogue import conversation_variables
from shared.templates.models import QuickReply
from shared.templates.quick_replies import rendered_out
from shared.templates.schemas import SuggestionOut, SuggestionQuery, SuggestionsOut, context_key

RECENT_MESSAGES = 5
INTENT_WEIGHT = 3
# Word starts, written as context_key writes text (no accents, words joined by hyphens).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "agendamento": ("agend", "marcar", "marcacao", "consulta", "remarc", "desmarc", "cancelar", "vaga",
                    "disponibilidade", "horario-disponivel", "encaixe", "avaliacao"),
    "preco": ("preco", "valor", "quanto-custa", "quanto-e", "quanto-fica", "custa", "orcamento", "pagamento",
              "parcel", "pix", "cartao", "desconto"),
    "endereco": ("endereco", "onde-fica", "onde-voces-ficam", "localizacao", "como-chegar", "estacionamento",
                 "mapa", "bairro"),
    "horario": ("horario-de-funcionamento", "que-horas", "abre", "fecha", "funciona", "sabado", "domingo",
                "feriado"),
    "pos-procedimento": ("pos-operatorio", "pos-procedimento", "depois-do-procedimento", "dor", "doendo", "doi",
                         "inchac", "inchad", "sangr", "recuperacao", "pontos", "remedio", "cuidados"),
    "convenio": ("convenio", "plano-de-saude", "plano", "unimed", "amil", "bradesco", "sulamerica", "reembolso"),
    "procedimento": ("procedimento", "tratamento", "como-funciona", "clareamento", "implante", "aparelho",
                     "limpeza", "botox", "preenchimento"),
    "reclamacao": ("reclama", "absurdo", "pessimo", "insatisfeit", "descaso"),
}  # fmt: skip
INTENT_CONTEXTS: dict[Intent, str] = {
    Intent.SCHEDULE: "agendamento",
    Intent.RESCHEDULE: "agendamento",
    Intent.CANCEL: "agendamento",
    Intent.PRICE: "preco",
    Intent.LOCATION_HOURS: "endereco",
    Intent.INSURANCE: "convenio",
    Intent.PROCEDURE_INFO: "procedimento",
    Intent.COMPLAINT: "reclamacao",
    Intent.GREETING: "saudacao",
}
_PATTERNS = {
    context: re.compile(r"(?:^|-)(?:" + "|".join(re.escape(word) for word in words) + ")")
    for context, words in KEYWORDS.items()
}


def contexts_in(texts: list[str]) -> Counter[str]:
    """The contexts the texts speak of, each weighted by how many texts name it (the first, newest, counts double)."""
    found: Counter[str] = Counter()
    for position, text in enumerate(texts):
        folded = context_key(text)
        for context, pattern in _PATTERNS.items():
            if pattern.search(folded):
                found[context] += 2 if position == 0 else 1
    return found


def suggest_quick_replies(session: Session, actor: Principal, query: SuggestionQuery) -> SuggestionsOut:
    """The active quick replies that fit the context given or the conversation's, best first."""
    if query.context is None and query.conversation_id is None:
        raise ValidationFailed([FieldError("context", "give a context or a conversation_id")])
    values = conversation_variables(session, actor, query.conversation_id)  # 404 first, for one not visible
    weights: Counter[str] = Counter()
    intent = None
    if query.conversation_id is not None:
        weights = contexts_in(_recent_patient_texts(session, query.conversation_id))
        intent = last_intent(session, query.conversation_id)
        if intent in INTENT_CONTEXTS:
            weights[INTENT_CONTEXTS[intent]] += INTENT_WEIGHT
    if query.context is not None:
        weights[context_key(query.context)] += 10  # what the secretary asked for outranks what we guessed
    items = _ranked(session, weights, intent, query.limit)
    return SuggestionsOut(
        contexts=[context for context, _ in weights.most_common()],
        intent=intent,
        items=[rendered_out(SuggestionOut, reply, values, score=score) for reply, score in items],
    )


def last_intent(session: Session, conversation_id: uuid.UUID) -> Intent | None:
    """The intent of the assistant's last answer in the conversation, or the one stored in its context."""
    response = session.scalar(
        select(LLMInteraction.response)
        .where(LLMInteraction.conversation_id == conversation_id, LLMInteraction.response.is_not(None))
        .order_by(LLMInteraction.created_at.desc())
        .limit(1)
    )
    if response is not None:
        try:
            return Intent(json.loads(response)["intent"])
        except (ValueError, KeyError, TypeError):  # a model's raw text need not be our JSON: fall back
            pass
    stored = session.scalar(
        select(ConversationContext.intent_type).where(ConversationContext.conversation_id == conversation_id)
    )
    return Intent(stored.lower()) if stored and stored.lower() in Intent._value2member_map_ else None


def _recent_patient_texts(session: Session, conversation_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(ConversationMessage.body)
            .where(
                ConversationMessage.conversation_id == conversation_id,
                ConversationMessage.direction == MessageDirection.INBOUND,
                ConversationMessage.body.is_not(None),
            )
            .order_by(ConversationMessage.created_at.desc())
            .limit(RECENT_MESSAGES)
        )
    )


def _ranked(session: Session, weights: Counter[str], intent: Intent | None, limit: int) -> list[tuple[QuickReply, int]]:
    fits = [QuickReply.contexts.overlap(list(weights))] if weights else []
    if intent is not None:
        fits.append(QuickReply.intent == intent.value)
    if not fits:
        return []
    candidates = session.scalars(select(QuickReply).where(QuickReply.is_active, or_(*fits)))
    scored = [(reply, _score(reply, weights, intent)) for reply in candidates]
    scored.sort(key=lambda pair: (-pair[1], -pair[0].usage_count, pair[0].title.casefold(), str(pair[0].id)))
    return scored[:limit]


def _score(reply: QuickReply, weights: Counter[str], intent: Intent | None) -> int:
    shared = sum(weights[context] for context in reply.contexts if context in weights)
    return shared + (INTENT_WEIGHT if intent is not None and reply.intent == intent.value else 0)

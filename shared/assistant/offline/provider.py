"""The offline provider: a real product mode for clinics without a Gemini key (and the default).

Intent and urgency come from an embedding classifier with pt-BR rules (classifier.py, urgency.py), the
patient's sentiment from pt-BR rules (sentiment.py), the services named from the knowledge base's names (as the
topics read them); answers come from the clinic's knowledge base (exact prices, address, hours, insurance,
FAQs); replies are the pt-BR templates of replies.py. What it cannot answer it hands to a secretary instead of guessing.
"""

from __future__ import annotations

import re
import time

from shared.assistant.models import LLMProvider
from shared.assistant.offline import replies
from shared.assistant.offline.classifier import Classification, IntentClassifier
from shared.assistant.offline.sentiment import read_sentiment
from shared.assistant.providers import ProviderAnswer, TurnRequest, Usage
from shared.assistant.schemas import SCHEDULING_INTENTS, Intent, Maturity, PatientFacts, TurnDecision
from shared.assistant.topics import services_named

PROMPT_VERSION = "offline-v2"  # v2: sentiment and the services named
MODEL = "offline"
FAQ_MIN_SCORE = 0.80  # search scores (0.8 cosine + 0.2 keywords): right FAQs score 0.82-0.95, small talk <= 0.70
# How ready to book each intent suggests the patient is (card 081, without a model).
MATURITY = {
    Intent.SCHEDULE: 80,
    Intent.RESCHEDULE: 70,
    Intent.CANCEL: 20,
    Intent.PRICE: 45,
    Intent.PROCEDURE_INFO: 40,
    Intent.LOCATION_HOURS: 50,
    Intent.INSURANCE: 40,
    Intent.GREETING: 10,
    Intent.COMPLAINT: 10,
    Intent.OPT_OUT: 0,
    Intent.OTHER: 15,
}
# "meu nome é carla" / "me chamo Ana Paula": the first word in any case, a second only when capitalised.
_NAME = re.compile(r"\b(?:meu nome (?:é|e|eh)|me chamo)\s+([^\W\d_]{2,})(\s+(?-i:[A-ZÀ-Ú])[^\W\d_]+)?", re.IGNORECASE)
_PREFERENCES = re.compile(
    r"\b(segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|manhã|manha|tarde|noite|semana que vem|"
    r"próxima semana|proxima semana|amanhã|amanha|hoje)\b",
    re.IGNORECASE,
)


class OfflineProvider:
    kind = LLMProvider.OFFLINE
    prompt_version = PROMPT_VERSION

    def __init__(self, classifier: IntentClassifier | None = None) -> None:
        # The knowledge base's e5 embedder: one model in the process, and the message embedded once per turn.
        from shared.knowledge.embeddings import shared_e5_embeddings

        self.classifier = classifier or IntentClassifier(embedder=shared_e5_embeddings())

    def decide(self, request: TurnRequest) -> ProviderAnswer:
        started = time.monotonic()
        text = request.text
        found = self.classifier.classify(text) if text.strip() else Classification(Intent.OTHER, 0.0, False, None)
        reply, confident = self._reply(request, found)
        mood = read_sentiment(text)
        kb_services = request.knowledge_base.services if request.knowledge_base else []
        decision = TurnDecision(
            reply=reply,
            template=_template_for(request, found.intent),
            intent=found.intent,
            confidence=found.confidence if confident else min(found.confidence, 0.3),
            is_urgent=found.is_urgent,
            urgency_reason=found.urgency_reason,
            maturity=Maturity(
                score=MATURITY[found.intent],
                engagement="mensagem curta" if len(text) < 40 else "detalhou o pedido",
                interest_clarity=found.intent.value,
            ),
            facts=_facts(request, found),
            handoff=not confident,
            handoff_reason=None if confident else "sem resposta na base de conhecimento",
            sentiment=mood.sentiment,
            sentiment_score=mood.score,
            services=[service.name for service in services_named(request.new_messages, kb_services)],
        )
        return ProviderAnswer(
            decision,
            self.kind,
            MODEL,
            PROMPT_VERSION,
            Usage(),
            int((time.monotonic() - started) * 1000),
            prompt=text,
            response=decision.model_dump_json(),
        )

    def _reply(self, request: TurnRequest, found: Classification) -> tuple[str, bool]:
        """The reply and whether it answers the message (False: a secretary should)."""
        reply, confident = self._answer(request, found.intent, request.text)
        if found.is_urgent:
            return f"{replies.URGENT_PREFIX}\n{reply if found.intent in SCHEDULING_INTENTS else ''}".strip(), confident
        return reply, confident

    def _answer(self, request: TurnRequest, intent: Intent, text: str) -> tuple[str, bool]:
        kb = request.knowledge_base
        if intent is Intent.GREETING:
            return replies.greeting(request.clinic_name), True
        if intent in SCHEDULING_INTENTS:
            return replies.scheduling(intent, kb.find_service(text) if kb else None), True
        if intent is Intent.COMPLAINT:
            return replies.COMPLAINT, True
        if kb is None:
            return replies.NO_KNOWLEDGE, False
        if intent is Intent.LOCATION_HOURS:
            return replies.location(kb), True
        if intent is Intent.INSURANCE:
            return replies.insurance(kb), True
        service = kb.find_service(text)
        if intent is Intent.PRICE:
            return replies.price(kb, service), True
        faq = _best_faq(kb, text)
        if faq is not None:
            return faq, True
        if intent is Intent.PROCEDURE_INFO and service is not None:
            return replies.procedure(service), True
        return replies.HANDING_OFF, False


def _best_faq(kb, text: str) -> str | None:
    answers = {faq.question: faq.answer for faq in kb.faqs}
    for passage in kb.search(text, n=3):
        if passage.kind == "faq" and passage.score >= FAQ_MIN_SCORE and passage.name in answers:
            return answers[passage.name]
    return None


def _template_for(request: TurnRequest, intent: Intent) -> str | None:
    """A scripted message named after the intent ("location_hours", "greeting"...) replaces the text reply."""
    names = {template.name for template in request.templates}
    return intent.value if intent.value in names else None


def _facts(request: TurnRequest, found: Classification) -> PatientFacts:
    text = request.text
    name = _NAME.search(text)
    return PatientFacts(
        name=(name.group(1).capitalize() + (name.group(2) or "")) if name else None,
        symptoms=[found.urgency_reason] if found.is_urgent and found.urgency_reason else [],
        preferences=sorted({match.lower() for match in _PREFERENCES.findall(text)}),
    )

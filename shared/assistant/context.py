"""The turn's collaborators (built once per process) and what the provider is told about the turn."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.assistant.batch import Batch
from shared.assistant.outcomes import stored_facts
from shared.assistant.providers import Provider, TurnRequest, build_provider
from shared.config import Settings, get_settings
from shared.conversations.models import Conversation
from shared.conversations.outbound import Typing
from shared.knowledge.store import KnowledgeBase, open_knowledge_base, recall, remember_many
from shared.templates.service import active_templates
from shared.whatsapp.client import WahaClient

log = logging.getLogger(__name__)
KNOWLEDGE_PASSAGES = 4
MEMORY_LINES = 3


@dataclass
class TurnServices:
    settings: Settings
    provider: Provider
    waha: WahaClient
    typing: Typing
    knowledge: Callable[[], KnowledgeBase | None]
    memory: bool = True  # conversation memory in Chroma (cards 077, 083)


def build_turn_services(
    settings: Settings | None = None, *, waha: WahaClient | None = None, provider: Provider | None = None
) -> TurnServices:
    """The real collaborators, from the settings (the processor's composition root)."""
    settings = settings or get_settings()
    return TurnServices(
        settings=settings,
        provider=provider or build_provider(settings),
        waha=waha or WahaClient.from_settings(settings),
        typing=Typing(settings.typing_seconds_per_char, settings.typing_max_seconds),
        knowledge=lambda: open_knowledge_base(settings),
    )


def build_request(
    session: Session,
    conversation: Conversation,
    batch: Batch,
    services: TurnServices,
    history: list[tuple[str, str]],
    knowledge_base: KnowledgeBase | None,
    *,
    retrieve: bool = True,
) -> TurnRequest:
    """Everything the provider reads for this turn: history, facts, retrieved knowledge, memory, templates.

    Without `retrieve` (the answer is cached) the knowledge search and the memory recall are skipped."""
    text = "\n".join(batch.texts)
    return TurnRequest(
        conversation_id=conversation.id,
        clinic_name=knowledge_base.clinic.name if knowledge_base else services.settings.clinic_name,
        new_messages=batch.texts,
        history=history,
        facts=stored_facts(conversation.context),
        knowledge=_knowledge(knowledge_base, text) if retrieve else [],
        memory=_memory(services, conversation.id, text, history) if retrieve else [],
        templates=active_templates(session),
        knowledge_base=knowledge_base,
    )


def remember_messages(services: TurnServices, conversation_id: uuid.UUID, batch: Batch) -> None:
    """Keep what the patient said in conversation memory; retrieval is a help, so a failure is only logged."""
    if not services.memory:
        return
    entries = [(str(message.id), message.body, "patient") for message in batch.messages if message.body]
    try:
        remember_many(conversation_id, entries, settings=services.settings)
    except Exception:
        log.exception("conversation memory not written")


def _knowledge(knowledge_base: KnowledgeBase | None, text: str) -> list[str]:
    if knowledge_base is None:
        return []
    passages = [passage.text for passage in knowledge_base.search(text, n=KNOWLEDGE_PASSAGES)] if text else []
    clinic = knowledge_base.clinic
    basics = (
        f"{clinic.name}. Endereço: {clinic.address}. Telefone: {clinic.phone or '-'}. Horário: {clinic.hours or '-'}."
    )
    return [basics, *passages]


def _memory(services: TurnServices, conversation_id: uuid.UUID, text: str, history: list[tuple[str, str]]) -> list[str]:
    if not (services.memory and text):
        return []
    seen = {line for _, line in history}
    try:
        return [
            line
            for line in recall(conversation_id, text, n=MEMORY_LINES, settings=services.settings)
            if line not in seen
        ]
    except Exception:
        log.exception("conversation memory not read")
        return []

"""What a turn was about (card 149): its intent and the clinic's services the patient named.

A service is named when its name, or its name without the parenthesis, or what the parenthesis holds
("Toxina botulínica (botox)": "toxina botulinica", "botox"), appears in a patient's message as whole words,
accents and case aside. The model's own list of services counts too, when it names a service of the clinic's
knowledge base; anything else it lists is dropped, so a topic is always the intent or one of the clinic's services.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from shared.assistant.schemas import TurnDecision
from shared.knowledge.passages import fold

if TYPE_CHECKING:
    from shared.knowledge.schemas import Service

TOPIC_MAX = 100  # turn_insights.topics holds varchar(100)


def topic_name(text: str) -> str:
    """A topic as stored: lower case, no accents, single spaces ("Toxina botulínica (botox)" keeps its shape)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())[:TOPIC_MAX]


def services_named(texts: Iterable[str], services: list[Service]) -> list[Service]:
    """The services any of `texts` names, in the knowledge base's order."""
    folded = [f" {fold(text)} " for text in texts if text]
    return [service for service in services if any(f" {alias} " in text for alias in _aliases(service.name)
                                                   for text in folded)]  # fmt: skip


def turn_topics(decision: TurnDecision, patient_texts: list[str], services: list[Service]) -> list[str]:
    """The intent, then each service named in the messages or by the model, once."""
    named = {service.name for service in services_named(patient_texts, services)}
    named |= {service.name for service in services_named(decision.services, services)}
    topics = [decision.intent.value]
    topics += [topic_name(service.name) for service in services if service.name in named]
    return list(dict.fromkeys(topics))


def _aliases(name: str) -> set[str]:
    inside = re.findall(r"\(([^)]*)\)", name)
    outside = re.sub(r"\([^)]*\)", " ", name)
    return {alias for alias in (fold(name), fold(outside), *map(fold, inside)) if alias}

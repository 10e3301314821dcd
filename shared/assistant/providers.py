"""The port every assistant provider stands behind, and the choice of provider.

A provider turns a `TurnRequest` (the new messages and everything known around them) into a `TurnDecision`
(shared/assistant/schemas.py). Two stand behind the port: Gemini through google-genai, and the offline provider
(embedding classifier, rules, the knowledge base and reply templates), which needs no key and no network.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from shared.assistant.models import LLMProvider
from shared.assistant.schemas import TurnDecision
from shared.config import Settings

if TYPE_CHECKING:
    from shared.knowledge.store import KnowledgeBase


@dataclass(frozen=True)
class TemplateOption:
    """A scripted message the provider may choose instead of writing a reply."""

    name: str
    kind: str
    body: str | None


@dataclass(frozen=True)
class TurnRequest:
    conversation_id: uuid.UUID
    clinic_name: str
    new_messages: list[str]
    history: list[tuple[str, str]] = field(default_factory=list)  # (who, text), oldest first
    facts: dict = field(default_factory=dict)
    knowledge: list[str] = field(default_factory=list)  # retrieved passages, best first
    memory: list[str] = field(default_factory=list)  # recalled lines of earlier conversations
    templates: list[TemplateOption] = field(default_factory=list)
    knowledge_base: KnowledgeBase | None = None

    @property
    def text(self) -> str:
        """The new messages as one text (a burst is answered as a whole)."""
        return "\n".join(message for message in self.new_messages if message)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ProviderAnswer:
    decision: TurnDecision
    provider: LLMProvider
    model: str
    prompt_version: str
    usage: Usage
    latency_ms: int
    prompt: str | None = None
    response: str | None = None


class ProviderError(Exception):
    """The provider gave no usable answer after its retries."""

    def __init__(
        self,
        message: str,
        *,
        failed_calls: int,
        provider: LLMProvider,
        model: str,
        prompt_version: str,
        latency_ms: int = 0,
    ) -> None:
        super().__init__(message)
        self.failed_calls = failed_calls  # calls that failed in a row, retries included
        self.provider = provider
        self.model = model
        self.prompt_version = prompt_version
        self.latency_ms = latency_ms


class Provider(Protocol):
    kind: LLMProvider
    prompt_version: str

    def decide(self, request: TurnRequest) -> ProviderAnswer:
        """Answer one turn; raises ProviderError when no usable answer came."""
        ...


def provider_kind(settings: Settings) -> LLMProvider:
    """Which provider the settings choose: `auto` is Gemini when a key is configured."""
    if settings.assistant_provider == "gemini" or (settings.assistant_provider == "auto" and settings.google_api_keys):
        return LLMProvider.GEMINI
    return LLMProvider.OFFLINE


def build_provider(settings: Settings) -> Provider:
    """The provider the settings choose, built with its real collaborators."""
    if provider_kind(settings) is LLMProvider.GEMINI:
        from shared.assistant.gemini import GeminiProvider

        return GeminiProvider.from_settings(settings)
    from shared.assistant.offline.provider import OfflineProvider

    return OfflineProvider()

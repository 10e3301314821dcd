"""The local stack's first knowledge base: the sample clinic, imported once when none exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import import_knowledge_base, open_knowledge_base


@dataclass(frozen=True)
class ActiveKnowledge:
    clinic_name: str
    version: str
    imported_now: bool


def ensure_knowledge_base(sample: Path, settings: Settings | None = None) -> ActiveKnowledge:
    """The active knowledge base, importing `sample` first when nothing was ever imported (yours is kept)."""
    existing = open_knowledge_base(settings)
    if existing is not None:
        return ActiveKnowledge(existing.clinic.name, existing.version, imported_now=False)
    data = load_knowledge_base(sample)
    info = import_knowledge_base(data, settings=settings)
    return ActiveKnowledge(data.clinic.name, info.version, imported_now=True)

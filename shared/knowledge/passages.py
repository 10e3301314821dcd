"""What the knowledge base embeds: one self-contained passage per fact a patient asks about, in Portuguese."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from shared.knowledge.schemas import Clinic, Faq, KnowledgeBaseFile, Service

Kind = Literal["clinic", "service", "insurance", "faq"]


@dataclass(frozen=True)
class Passage:
    text: str
    kind: Kind
    name: str
    score: float = 0.0  # 0..1, higher is closer to the query; 0 for passages not found by a search


@dataclass(frozen=True)
class PassageRecord:
    """A passage as stored: a stable id within its collection and the metadata searches filter on."""

    id: str
    text: str
    kind: Kind
    name: str

    @property
    def metadata(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


def content_version(data: KnowledgeBaseFile) -> str:
    """The content's identity: the first 12 hex digits of the SHA-256 of its canonical JSON."""
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def build_passages(data: KnowledgeBaseFile) -> list[PassageRecord]:
    """The passages of a knowledge-base file, in file order."""
    records = [PassageRecord("clinic", clinic_text(data.clinic), "clinic", data.clinic.name)]
    records += [PassageRecord(f"service-{i}", service_text(s), "service", s.name) for i, s in enumerate(data.services)]
    if data.insurance:
        text = f"Convênios e planos de saúde aceitos: {', '.join(data.insurance)}."
        records.append(PassageRecord("insurance", text, "insurance", "Convênios"))
    records += [PassageRecord(f"faq-{i}", faq_text(faq), "faq", faq.question) for i, faq in enumerate(data.faqs)]
    return records


def clinic_text(clinic: Clinic) -> str:
    """Where the clinic is and how to reach it: the passage for "qual o endereço?" and "que horas abre?"."""
    # The opening names what this passage answers, in the words patients use: it must outrank FAQs whose
    # answers merely mention a street or "horários".
    lines = [f"{clinic.name}: endereço, localização, horário de funcionamento e contato."]
    lines.append(f"Endereço: {clinic.address}.")
    if clinic.hours:
        lines.append(f"Horário de funcionamento (quando abre e fecha): {clinic.hours}.")
    if clinic.phone:
        lines.append(f"Telefone e WhatsApp: {clinic.phone}.")
    if clinic.maps_url:
        lines.append(f"Como chegar, localização no mapa: {clinic.maps_url}")
    return " ".join(lines)


def service_text(service: Service) -> str:
    """A service with its price and preparation, so that one passage answers "quanto custa" and "como me preparo"."""
    lines = [f"Serviço: {service.name}."]
    if service.price:
        lines.append(f"Preço: {service.price}.")
    if service.description:
        lines.append(service.description)
    if service.preparation:
        lines.append(f"Preparo: {service.preparation}")
    return " ".join(lines)


def faq_text(faq: Faq) -> str:
    """A question with its answer: patients' questions resemble the question, the answer carries the facts."""
    return f"Pergunta: {faq.question} Resposta: {faq.answer}"


def fold(text: str) -> str:
    """Text for comparing names: no accents, no case, words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"[a-z0-9]+", plain))


# Words that say nothing about which passage answers ("qual o valor da limpeza?" is about "valor", "limpeza").
_STOPWORD_TEXT = (
    "a o as os ao aos de da do das dos e em no na nos nas num numa um uma uns umas para pra pro por com sem que "
    "qual quais quanto quanta quantos quantas como onde quando voces vcs voce vc eu me meu minha seu sua tem ter "
    "se ou mas mais muito gostaria queria quero saber oi ola bom boa dia tarde noite favor obrigado obrigada "
    "fazer faz fica isso esse essa aqui ai la sim nao ja tambem pode posso"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keywords(text: str) -> list[str]:
    """The words of a message that can identify a passage: folded, three letters or more, no stopwords."""
    return [word for word in fold(text).split() if len(word) >= 3 and word not in _STOPWORDS]


def keyword_overlap(query: str, text: str) -> float:
    """The share of the query's keywords found in `text`, 0..1. Words match on their first four letters, a crude
    Portuguese stemmer: "horas" finds "horário", "limpesa" finds "limpeza"."""
    wanted = keywords(query)
    if not wanted:
        return 0.0
    words = fold(text).split()
    return sum(any(word.startswith(keyword[:4]) for word in words) for keyword in wanted) / len(wanted)


def service_named_in(text: str, services: list[Service]) -> Service | None:
    """The service whose name, or a name in its parentheses ("botox"), the message contains; longest wins."""
    message = f" {fold(text)} "
    named = [(len(alias), service) for service in services for alias in _aliases(service.name)
             if f" {alias} " in message]  # fmt: skip
    return max(named, key=lambda found: found[0])[1] if named else None


def _aliases(name: str) -> set[str]:
    inside = re.findall(r"\(([^)]*)\)", name)
    outside = re.sub(r"\([^)]*\)", " ", name)
    return {alias for alias in (fold(name), fold(outside), *map(fold, inside)) if alias}

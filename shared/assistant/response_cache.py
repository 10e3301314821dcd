"""Cached decisions for FAQ-like turns (card 114): the same question, prompt and knowledge get the same answer.

The key is the normalised message with the prompt version and the knowledge base's version, so a new prompt or
a new import starts afresh without any invalidation step. Only turns whose decision is a plain FAQ answer (a
price, the address, insurance, how a procedure works; no urgency, no handoff, nothing learned about the
patient) are stored. Hits and misses are counted in Redis for the AI stats.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

import redis
from pydantic import ValidationError

from shared.assistant.schemas import FAQ_INTENTS, TurnDecision
from shared.cache import get_redis, key

log = logging.getLogger(__name__)
_NOISE = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")
HITS, MISSES = "hits", "misses"


def normalise_question(text: str) -> str:
    """Lowercase, without accents, punctuation or emojis, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", _NOISE.sub(" ", plain)).strip()


def question_digest(text: str, prompt_version: str, knowledge_version: str | None) -> str:
    """What identifies an answer: the normalised question, the prompt and the knowledge it was answered with."""
    digest = hashlib.sha256(f"{prompt_version}\0{knowledge_version}\0{normalise_question(text)}".encode())
    return digest.hexdigest()[:32]


def cache_key(text: str, prompt_version: str, knowledge_version: str | None) -> str:
    return key("response-cache", question_digest(text, prompt_version, knowledge_version))


def is_cacheable(decision: TurnDecision) -> bool:
    """A plain FAQ answer that does not depend on who asked."""
    facts = decision.facts
    learned = facts.name or facts.symptoms or facts.concerns or facts.preferences
    return decision.intent in FAQ_INTENTS and not (decision.is_urgent or decision.handoff or learned)


def lookup(cache_key_: str) -> TurnDecision | None:
    """The cached decision, counting the hit or the miss; None on a miss or when Redis is away."""
    try:
        cached = get_redis().get(cache_key_)
        get_redis().hincrby(key("response-cache", "stats"), HITS if cached else MISSES, 1)
    except redis.RedisError:
        return None
    try:
        return TurnDecision.model_validate_json(cached) if cached else None
    except ValidationError:  # written by an older TurnDecision: a miss, and the next store replaces it
        log.info("response cache entry no longer parses: ignored")
        return None


def store(cache_key_: str, decision: TurnDecision, ttl_seconds: int) -> None:
    if ttl_seconds <= 0 or not is_cacheable(decision):
        return
    try:
        get_redis().set(cache_key_, decision.model_dump_json(), ex=ttl_seconds)
    except redis.RedisError as exc:
        log.info("response cache not written: %s", type(exc).__name__)


def stats() -> dict[str, int]:
    """Hits and misses since the counters began."""
    values = get_redis().hgetall(key("response-cache", "stats"))
    return {HITS: int(values.get(HITS, 0)), MISSES: int(values.get(MISSES, 0))}

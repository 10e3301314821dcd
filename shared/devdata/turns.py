"""What the assistant's turns leave besides the messages, for the metrics (issue 11): an insight per patient
message the bot answered (the newest of the burst, dated by it: sentiment, score, intent, topics), the model call
behind each reply (tokens, cost, latency, prompt version; now and then a failed call first, none when the response
cache answered), and a row per patient message naming a competitor. Every choice comes from the seeded generator.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import accumulate

from shared.assistant.costs import cost_of
from shared.assistant.topics import topic_name
from shared.devdata import vocabulary as words
from shared.devdata.ids import new_id

INSIGHT_COLUMNS = ("id", "conversation_id", "message_id", "sentiment", "sentiment_score", "intent", "topics",
                   "created_at")  # fmt: skip
CALL_COLUMNS = (
    "id", "conversation_id", "provider", "model_name", "prompt_version", "prompt_tokens", "completion_tokens",
    "total_tokens", "cost_usd", "latency_ms", "response", "error", "created_at",
)  # fmt: skip
MENTION_COLUMNS = ("id", "conversation_id", "message_id", "competitor", "created_at")

COMPETITOR_SHARE = 0.015  # of the patients' text messages
RETIRED_BEFORE = timedelta(days=120)  # a retired competitor is named only in messages older than this
CACHE_HIT_SHARE = 0.07  # replies the response cache gave: no model call
FAILED_CALL_SHARE = 0.006  # turns whose first call failed (then retried)
PROMPT_V2_SINCE = timedelta(days=60)
MODEL, LITE_MODEL, LITE_SHARE = "gemini-2.5-flash", "gemini-2.5-flash-lite", 0.15
FAILURE = "503 UNAVAILABLE: The model is overloaded. Please try again later."
SENTIMENTS = ("positive", "neutral", "negative")
_MOOD_TOTALS = {topic: list(accumulate(weights)) for topic, weights in words.MOODS.items()}


@dataclass(frozen=True)
class PatientSaid:
    """A patient's message as the turn answering it sees it."""

    message_id: uuid.UUID
    at: datetime
    topic: str | None  # None: a picture, voice note or document
    template: str = ""  # the text's template ("" for media); "greeting" for a greeting alone
    procedure: str = ""  # the procedure the text names, if any


@cache
def prompt_versions() -> tuple[str, str]:
    """The versions the turn prompts log (name+hash of the files), old and current."""
    from shared.assistant.prompts import load_prompt

    return load_prompt("turn-v1").version, load_prompt("turn-v2").version


def intent_of(said: PatientSaid) -> str:
    if said.template == "greeting":
        return "greeting"
    return "other" if said.topic is None else _template_intent(said.topic, said.template)


@cache
def _template_intent(topic: str, template: str) -> str:
    if topic in ("schedule", "pain"):
        lowered = template.lower()
        found = next((intent for word, intent in words.INTENT_WORDS if word in lowered), None)
        if found:
            return found
    return words.TOPIC_INTENTS[topic]


def _mood(rng: random.Random, said: PatientSaid, intent: str) -> tuple[str, float]:
    """(sentiment, score): neutral within ±0.2, as the assistant's schema bands it."""
    if intent == "complaint":
        sentiment = "negative"
    elif said.topic is None:
        sentiment = "positive" if intent == "greeting" and rng.random() < 0.5 else "neutral"
    else:
        sentiment = rng.choices(SENTIMENTS, cum_weights=_MOOD_TOTALS[said.topic])[0]
    low, high = {"positive": (0.25, 0.95), "neutral": (-0.2, 0.2), "negative": (-0.95, -0.25)}[sentiment]
    return sentiment, round(rng.uniform(low, high), 3)


_topic = cache(topic_name)


def _array(values: list[str]) -> str:
    """A Postgres array literal (topics are lower-case words, spaces and hyphens: nothing to escape)."""
    return "{" + ",".join(f'"{value}"' for value in values) + "}"


def insight_row(rng: random.Random, conversation_id: uuid.UUID, said: PatientSaid) -> tuple:
    intent = intent_of(said)
    sentiment, score = _mood(rng, said, intent)
    topics = [intent] + ([_topic(said.procedure)] if said.procedure else [])
    return (new_id(rng), conversation_id, said.message_id, sentiment, score, intent, _array(topics), said.at)


def call_rows(
    rng: random.Random, conversation_id: uuid.UUID, said: PatientSaid, reply_at: datetime, reply: str,
    earlier_messages: int, now: datetime,
) -> list[tuple]:  # fmt: skip
    """The model calls behind one reply: none (a cache hit), one, or a failed one and its retry."""
    if rng.random() < CACHE_HIT_SHARE:
        return []
    old, current = prompt_versions()
    version = current if reply_at >= now - PROMPT_V2_SINCE else old
    model = LITE_MODEL if rng.random() < LITE_SHARE else MODEL
    rows = []
    if rng.random() < FAILED_CALL_SHARE:
        failed_at = said.at + (reply_at - said.at) / 2
        rows.append((new_id(rng), conversation_id, "GEMINI", model, version, 0, 0, 0, 0, rng.randint(8_000, 30_000),
                     None, FAILURE, failed_at))  # fmt: skip
    prompt = min(1_400 + 45 * earlier_messages + rng.randint(0, 600), 9_000)  # the history grows the prompt
    completion = rng.randint(40, 220)
    latency = min(int(rng.lognormvariate(6.8, 0.45)), 20_000)  # median ~900 ms
    rows.append((new_id(rng), conversation_id, "GEMINI", model, version, prompt, completion, prompt + completion,
                 cost_of(model, prompt, completion), latency, reply, None, reply_at))  # fmt: skip
    return rows


def competitor_named(rng: random.Random, at: datetime, now: datetime) -> str | None:
    """The competitor a patient's text names, now and then."""
    if rng.random() >= COMPETITOR_SHARE:
        return None
    if at < now - RETIRED_BEFORE and rng.random() < 0.2:
        return rng.choice(words.RETIRED_COMPETITORS)
    return rng.choice(words.COMPETITORS)


def mention_row(rng: random.Random, conversation_id: uuid.UUID, message_id: uuid.UUID, name: str, at: datetime):
    return (new_id(rng), conversation_id, message_id, name, at)

"""What one assistant turn decides: the shape both providers answer in.

`TurnDecision` is sent to Gemini as its response schema (one call answers everything the seed asked of three:
cards 080-082, and what the metrics need: the patient's sentiment and the services named, cards 148-149), and the
offline provider fills the same model, so the rest of the turn never knows which provider answered. No dict
fields: Gemini's response schema cannot describe free-form objects.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.assistant.models import Sentiment


class Intent(enum.StrEnum):
    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    PRICE = "price"
    LOCATION_HOURS = "location_hours"
    INSURANCE = "insurance"
    PROCEDURE_INFO = "procedure_info"
    GREETING = "greeting"
    COMPLAINT = "complaint"
    OPT_OUT = "opt_out"
    OTHER = "other"


# Intents that mean "a person should book, move or cancel an appointment": they make a lead and a handoff.
SCHEDULING_INTENTS = frozenset({Intent.SCHEDULE, Intent.RESCHEDULE, Intent.CANCEL})
# Intents whose answer depends only on the message and the knowledge base: their replies may be cached.
FAQ_INTENTS = frozenset({Intent.PRICE, Intent.LOCATION_HOURS, Intent.INSURANCE, Intent.PROCEDURE_INFO})


class Maturity(BaseModel):
    """How close the patient is to booking (card 081), with the reasons behind the score."""

    score: int = Field(ge=0, le=100, description="0 = just curious, 100 = ready to book now")
    engagement: str = Field(default="", description="how engaged the patient is, in a few words")
    interest_clarity: str = Field(default="", description="how clear the patient's interest is")
    objections: list[str] = Field(default_factory=list, description="price, fear, distance, time...")


class PatientFacts(BaseModel):
    """What the patient told us about themselves (card 058); empty fields mean nothing new."""

    name: str | None = Field(default=None, description="the patient's name, only if they said it")
    symptoms: list[str] = Field(default_factory=list)
    concerns: list[str] = Field(default_factory=list)
    preferences: list[str] = Field(default_factory=list, description="days, times, professional, procedure")


# A score within this distance of 0 is neutral; positive and negative scores lie beyond it.
SENTIMENT_BAND = 0.2
# Fields the model must always answer, though parsing defaults them: answers scripted before they existed (the
# emulator's tests, old cached decisions) still parse, and a model that skips one reads as neutral, nothing named.
_ALWAYS_ANSWERED = ("sentiment", "sentiment_score", "services")


def _require_always_answered(schema: dict[str, Any]) -> None:
    schema["required"] = [*schema.get("required", []), *_ALWAYS_ANSWERED]


class TurnDecision(BaseModel):
    """One turn's answer: the reply and everything the clinic needs to act on."""

    model_config = ConfigDict(use_enum_values=False, json_schema_extra=_require_always_answered)

    reply: str = Field(description="the reply to the patient, in Brazilian Portuguese, WhatsApp length")
    template: str | None = Field(default=None, description="name of a scripted message to send instead, if any")
    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0)
    is_urgent: bool = False
    urgency_reason: str | None = None
    maturity: Maturity
    facts: PatientFacts = Field(default_factory=PatientFacts)
    handoff: bool = Field(default=False, description="true when a secretary should take over")
    handoff_reason: str | None = None
    sentiment: Sentiment = Field(default=Sentiment.NEUTRAL, description="the patient's mood in the new messages")
    sentiment_score: float = Field(
        default=0.0,
        ge=-1.0,
        le=1.0,
        description=f"-1 very negative .. 1 very positive; neutral within ±{SENTIMENT_BAND}, positive and negative "
        "beyond",
    )
    services: list[str] = Field(
        default_factory=list, description="the clinic's services the patient named, as the clinic calls them"
    )

    @model_validator(mode="after")
    def _score_agrees_with_sentiment(self) -> TurnDecision:
        """The label is what the metrics count: the score is kept within its band."""
        low, high = {
            Sentiment.POSITIVE: (SENTIMENT_BAND, 1.0),
            Sentiment.NEUTRAL: (-SENTIMENT_BAND, SENTIMENT_BAND),
            Sentiment.NEGATIVE: (-1.0, -SENTIMENT_BAND),
        }[self.sentiment]
        self.sentiment_score = round(min(max(self.sentiment_score, low), high), 3)
        return self

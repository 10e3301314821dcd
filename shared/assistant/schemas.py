"""What one assistant turn decides: the shape both providers answer in.

`TurnDecision` is sent to Gemini as its response schema (one call answers everything the seed asked of three:
cards 080-082), and the offline provider fills the same model, so the rest of the turn never knows which
provider answered. No dict fields: Gemini's response schema cannot describe free-form objects.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


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


class TurnDecision(BaseModel):
    """One turn's answer: the reply and everything the clinic needs to act on."""

    model_config = ConfigDict(use_enum_values=False)

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

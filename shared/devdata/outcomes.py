"""What became of a generated conversation: its lead, maybe (a spread of sources, statuses and maturity scores;
`converted_at` for the SCHEDULED ones; a status change in the edit history for the LOST ones that had been
qualified), and the patient's feedback after a CLOSED one (NPS 0-10; each secretary's patients rate a little
higher or lower). Every choice comes from the seeded generator; nothing is dated after `now`."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta
from itertools import accumulate

from shared.devdata import vocabulary as words
from shared.devdata.ids import new_id
from shared.leads.phone import phone_key

LEAD_COLUMNS = (
    "id", "conversation_id", "name", "phone_number", "email", "status", "source", "maturity_score",
    "assigned_to_user_id", "converted_at", "created_at", "updated_at", "phone_key",
)  # fmt: skip
HISTORY_COLUMNS = ("id", "entity_type", "entity_id", "field", "old_value", "new_value", "user_id", "edited_at")
FEEDBACK_COLUMNS = ("id", "conversation_id", "nonce", "score", "comment", "created_at")

LEAD_SHARE = 0.35
# source, weight, how much likelier than a WhatsApp lead to book
SOURCES = (("WHATSAPP", 72, 1.0), ("REFERRAL", 13, 1.8), ("MANUAL", 8, 1.3), ("OTHER", 7, 0.7))
# status, weight of a recent lead, weight of an older one (most have booked or given up), maturity range
LEAD_STATUSES = (("NEW", 30, 8, 0, 30), ("ENGAGED", 28, 12, 20, 55), ("INTERESTED", 18, 12, 45, 75),
                 ("READY", 9, 5, 70, 95), ("SCHEDULED", 10, 20, 75, 100), ("LOST", 5, 40, 0, 60))  # fmt: skip
RECENT_LEAD = timedelta(days=21)
QUALIFIED_BEFORE_LOST = 0.45  # LOST leads that had been INTERESTED or READY first
FEEDBACK_SHARE = 0.3  # of CLOSED conversations
SCORE_WEIGHTS = (2, 1, 1, 2, 2, 4, 5, 9, 14, 25, 35)  # scores 0..10: about 60 % promoters, 17 % detractors
_SOURCE_TOTALS = list(accumulate(row[1] for row in SOURCES))
_SCORE_TOTALS = list(accumulate(SCORE_WEIGHTS))


def lead_rows(
    rng: random.Random, conversation_id: uuid.UUID, name: str | None, phone: str, secretary, created: datetime,
    now: datetime,
) -> tuple[tuple | None, list[tuple]]:  # fmt: skip
    """The conversation's lead (or None) and its edit history rows."""
    if rng.random() >= LEAD_SHARE:
        return None, []
    source, _, books = rng.choices(SOURCES, cum_weights=_SOURCE_TOTALS)[0]
    at = min(created + timedelta(minutes=rng.uniform(1, 120)), now)
    recent = now - at < RECENT_LEAD
    weights = [(row[1] if recent else row[2]) * (books if row[0] == "SCHEDULED" else 1) for row in LEAD_STATUSES]
    status, _, _, low, high = rng.choices(LEAD_STATUSES, weights)[0]
    email = None
    if name and rng.random() < 0.3:
        email = f"{_ascii(name.split()[0]).lower()}{rng.randint(1, 999)}@email.com.br"
    converted = min(at + timedelta(hours=rng.uniform(0.5, 7 * 24)), now) if status == "SCHEDULED" else None
    lead_id, owner = new_id(rng), secretary.id if secretary else None
    history = []
    if status == "LOST" and rng.random() < QUALIFIED_BEFORE_LOST:
        edited = min(at + timedelta(days=rng.uniform(1, 20)), now)
        history.append((new_id(rng), "lead", lead_id, "status", json.dumps(rng.choice(("INTERESTED", "READY"))),
                        json.dumps("LOST"), owner, edited))  # fmt: skip
    updated = max([at, converted or at, *(row[-1] for row in history)])
    lead = (
        lead_id, conversation_id, name, phone, email, status, source, rng.randint(low, high), owner, converted,
        at, updated, phone_key(phone),  # COPY skips the model's column default: duplicates must find generated leads
    )  # fmt: skip
    return lead, history


def _ascii(name: str) -> str:
    return name.translate(str.maketrans("áâãéêíóôõúç", "aaaeeiooouc"))


def feedback_row(
    rng: random.Random, conversation_id: uuid.UUID, secretary, closed_at: datetime, now: datetime
) -> tuple | None:
    """The patient's answer to the closing message's form, sometimes."""
    if rng.random() >= FEEDBACK_SHARE:
        return None
    score = rng.choices(range(11), cum_weights=_SCORE_TOTALS)[0]
    care = secretary.care if secretary else 0.0
    if rng.random() < abs(care):
        score = min(10, max(0, score + (2 if care > 0 else -2)))
    band = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    comment = rng.choice(words.FEEDBACK_COMMENTS[band]) if rng.random() < 0.35 else None
    at = min(closed_at + timedelta(minutes=rng.uniform(5, 24 * 60)), now)
    return (new_id(rng), conversation_id, new_id(rng).hex, score, comment, at)

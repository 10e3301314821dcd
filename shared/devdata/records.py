"""The generated rows: secretaries, and each conversation with its lead and its messages, as tuples in the
order of the COPY column lists below. Every random choice comes from the one seeded `random.Random`."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count as count_from

from shared.devdata import vocabulary as words
from shared.leads.phone import phone_key

USER_COLUMNS = ("id", "email", "full_name", "password_hash", "role", "status", "created_at", "updated_at")
CONVERSATION_COLUMNS = (
    "id", "chat_id", "phone_number", "name", "status", "is_urgent", "urgency_reason", "assigned_to_user_id",
    "human_takeover_at", "opted_out_at", "last_message_at", "created_at", "updated_at",
)  # fmt: skip
LEAD_COLUMNS = (
    "id", "conversation_id", "name", "phone_number", "email", "status", "source", "maturity_score",
    "assigned_to_user_id", "converted_at", "created_at", "updated_at", "phone_key",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "id", "conversation_id", "direction", "sender_kind", "sender_user_id", "kind", "from_phone", "to_phone", "body",
    "media_mimetype", "media_filename", "media_url", "waha_message_id", "ack", "ack_at", "sent_at",
    "message_timestamp", "processed_at", "processing_note", "created_at",
)  # fmt: skip

DAYS_SPREAD = 180
# Old conversations are mostly closed; recent ones are spread over the live statuses.
RECENT_STATUSES = (("ACTIVE", 35), ("AWAITING_RESPONSE", 20), ("WAITING_SECRETARY", 15), ("TRANSFERRED", 8),
                   ("CLOSED", 22))  # fmt: skip
OLD_STATUSES = (("CLOSED", 85), ("ACTIVE", 6), ("AWAITING_RESPONSE", 5), ("TRANSFERRED", 2), ("WAITING_SECRETARY", 2))
# Lead status -> the maturity range the assistant would have scored it in.
LEAD_STATUSES = (("NEW", 25, 0, 30), ("ENGAGED", 25, 20, 55), ("INTERESTED", 20, 45, 75), ("READY", 10, 70, 95),
                 ("SCHEDULED", 12, 75, 100), ("LOST", 8, 0, 60))  # fmt: skip
LEAD_SHARE = 0.35
MEDIA_SHARE = 0.06


@dataclass(frozen=True)
class Secretary:
    id: uuid.UUID
    first_name: str


@dataclass
class Built:
    """One generated conversation with what belongs to it."""

    conversation: tuple
    lead: tuple | None
    messages: list[tuple] = field(default_factory=list)


def new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def user_rows(rng: random.Random, count: int, password_hash: str, now: datetime, taken: set[str]) -> list[tuple]:
    """`count` ACTIVE secretaries (role USER) with e-mails not in `taken`."""
    rows = []
    for _ in range(count):
        first, surname = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
        email = _free_email(f"{_ascii(first)}.{_ascii(surname)}".lower(), taken)
        taken.add(email)
        joined = now - timedelta(days=rng.randint(DAYS_SPREAD, 3 * DAYS_SPREAD))
        rows.append((new_id(rng), email, f"{first} {surname}", password_hash, "USER", "ACTIVE", joined, joined))
    return rows


def _free_email(local: str, taken: set[str]) -> str:
    return next(email for n in count_from(0) if (email := f"{local}{n or ''}@clinica.dev") not in taken)


def _ascii(name: str) -> str:
    return name.translate(str.maketrans("áâãéêíóôõúç", "aaaeeiooouc"))


def spread_messages(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """How many messages each conversation gets: at least one (while there are enough), a long tail of chatty ones."""
    base = 1 if messages >= conversations else 0
    counts = [base] * conversations
    weights = [rng.lognormvariate(0, 0.9) for _ in range(conversations)]
    for index in rng.choices(range(conversations), weights, k=messages - base * conversations):
        counts[index] += 1
    return counts


def build_conversation(
    rng: random.Random, phone_suffix: int, message_count: int, secretaries: list[Secretary], now: datetime
) -> Built:
    """A conversation, maybe a lead, and `message_count` messages between the patient, the bot and a secretary."""
    conversation_id = new_id(rng)
    phone = f"55{rng.choice(words.AREA_CODES)}9{phone_suffix:08d}"
    first, surname = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
    name = None if rng.random() < 0.05 else (first if rng.random() < 0.4 else f"{first} {surname}")
    created = now - timedelta(days=rng.random() * DAYS_SPREAD)
    times = _message_times(rng, created, message_count, now)
    last = times[-1] if times else None
    status = _weighted(rng, RECENT_STATUSES if (now - (last or created)).days < 14 else OLD_STATUSES)
    live_handoff = status in ("WAITING_SECRETARY", "TRANSFERRED")
    secretary = rng.choice(secretaries) if secretaries and rng.random() < (0.9 if live_handoff else 0.6) else None
    takeover = rng.randrange(len(times)) if secretary and times and (live_handoff or rng.random() < 0.3) else None
    urgent = rng.random() < (0.25 if live_handoff else 0.02)
    conversation = (
        conversation_id, f"{phone}@c.us", phone, name, status, urgent,
        rng.choice(words.URGENCY_REASONS) if urgent else None, secretary.id if secretary else None,
        times[takeover] if takeover is not None else None, last if rng.random() < 0.01 else None,
        last, created, last or created,
    )  # fmt: skip
    built = Built(conversation, _lead(rng, conversation_id, name, phone, secretary, created))
    talk = _Talk(rng, conversation_id, f"{phone}@c.us", first, secretary)
    built.messages = talk.messages(times, takeover)
    return built


def _weighted(rng: random.Random, choices: tuple) -> str:
    return rng.choices([choice[0] for choice in choices], [choice[1] for choice in choices])[0]


def _message_times(rng: random.Random, start: datetime, count: int, now: datetime) -> list[datetime]:
    """Bursts of replies minutes apart, and now and then a pause of hours or days; never in the future."""
    times, at = [], start
    for _ in range(count):
        times.append(at)
        pause = rng.random()
        seconds = rng.uniform(20, 300) if pause < 0.8 else rng.uniform(3600, 3 * 86400 if pause > 0.97 else 8 * 3600)
        at = min(at + timedelta(seconds=seconds), now)
    return times


def _lead(
    rng: random.Random, conversation_id, name: str | None, phone: str, secretary: Secretary | None, created: datetime
) -> tuple | None:
    if rng.random() >= LEAD_SHARE:
        return None
    status, _, low, high = rng.choices(LEAD_STATUSES, [row[1] for row in LEAD_STATUSES])[0]
    at = created + timedelta(minutes=rng.uniform(1, 120))
    email = None
    if name and rng.random() < 0.3:
        email = f"{_ascii(name.split()[0]).lower()}{rng.randint(1, 999)}@email.com.br"
    return (
        new_id(rng), conversation_id, name, phone, email, status, "WHATSAPP", rng.randint(low, high),
        secretary.id if secretary else None, at + timedelta(days=rng.uniform(0, 5)) if status == "SCHEDULED" else None,
        at, at, phone_key(phone),  # COPY skips the model's column default: duplicates must find generated leads too
    )  # fmt: skip


class _Talk:
    """The messages of one conversation, on one or two topics, in the voices of the patient, the bot and the
    secretary (after she takes over the chat, she answers instead of the bot)."""

    def __init__(self, rng: random.Random, conversation_id, chat_id: str, first_name: str, secretary) -> None:
        self.rng, self.conversation_id, self.chat_id = rng, conversation_id, chat_id
        self.secretary = secretary
        topics = rng.sample(words.TOPICS, 2)
        self.topics = [topics[0]] * 4 + [topics[1]]
        self.slots = {"proc": rng.choice(words.PROCEDURES), "plan": rng.choice(words.PLANS),
                      "symptom": rng.choice(words.SYMPTOMS), "name": first_name,
                      "secretary": secretary.first_name if secretary else "Ana"}  # fmt: skip

    def messages(self, times: list[datetime], takeover: int | None) -> list[tuple]:
        rows, sender = [], "PATIENT"
        for index, at in enumerate(times):
            if index:
                human = takeover is not None and index >= takeover
                sender = self._next_sender(sender, "SECRETARY" if human else "BOT")
            rows.append(self._row(sender, at, index == 0 or at - times[index - 1] > timedelta(hours=3)))
        return rows

    def _next_sender(self, previous: str, clinic: str) -> str:
        chance = self.rng.random()
        if previous == "PATIENT":
            return "PATIENT" if chance < 0.15 else clinic
        return clinic if chance < 0.25 else "PATIENT"

    def _text(self, bank: tuple[str, ...]) -> str:
        rng = self.rng
        text = rng.choice(bank).format(
            day=rng.choice(words.DAYS), hour=rng.choice(words.HOURS), price=rng.choice(words.PRICES), **self.slots
        )
        return text[0].upper() + text[1:]  # "{proc} dói?" begins with a procedure in lower case

    def _row(self, sender: str, at: datetime, greets: bool) -> tuple:
        rng, topic = self.rng, self.rng.choice(self.topics)
        kind, mimetype, filename, url = "TEXT", None, None, None
        message_id = new_id(rng)
        if sender == "PATIENT":
            if rng.random() < MEDIA_SHARE:
                kind, mimetype, filename, body = rng.choice(words.MEDIA)
                url = f"https://media.clinica.dev/{message_id.hex}"
            else:
                body = (rng.choice(words.GREETINGS) if greets else "") + self._text(words.PATIENT[topic])
                body = body.lower() if rng.random() < 0.2 else body
            note = "replied" if self.secretary is None else rng.choice(("replied", "human_takeover"))
            return (message_id, self.conversation_id, "INBOUND", sender, None, kind, self.chat_id,
                    words.CLINIC_CHAT_ID, body, mimetype, filename, url, f"false_{self.chat_id}_{message_id.hex}",
                    None, None, at, at, at + timedelta(seconds=2), note, at)  # fmt: skip
        bank = words.SECRETARY if sender == "SECRETARY" else words.BOT[topic]
        author = self.secretary.id if sender == "SECRETARY" else None
        acked = at + timedelta(seconds=rng.uniform(1, 600))
        return (message_id, self.conversation_id, "OUTBOUND", sender, author, kind, words.CLINIC_CHAT_ID,
                self.chat_id, self._text(bank), None, None, None, f"true_{self.chat_id}_{message_id.hex}",
                rng.choice(("READ", "READ", "DEVICE")), acked, at, at, None, None, at)  # fmt: skip

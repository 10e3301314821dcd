"""The generated rows: secretaries, and each conversation with its messages and what they left behind (the lead,
the turns' insights and model calls, competitor mentions, feedback), as tuples in the order of the COPY column
lists. Every random choice comes from the one seeded `random.Random`.

Who writes when: a conversation starts at a plausible hour (daytime, fewer on weekends, on the clinic's clock);
the bot answers within seconds, a secretary within minutes once the clinic is open (each at her own pace), and
the patient writes back after minutes, hours or days.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from itertools import count as count_from
from zoneinfo import ZoneInfo

from shared.devdata import outcomes
from shared.devdata import vocabulary as words
from shared.devdata.ids import new_id
from shared.devdata.turns import PatientSaid, call_rows, competitor_named, insight_row, mention_row

USER_COLUMNS = ("id", "email", "full_name", "password_hash", "role", "status", "created_at", "updated_at")
CONVERSATION_COLUMNS = (
    "id", "chat_id", "phone_number", "name", "status", "is_urgent", "urgency_reason", "assigned_to_user_id",
    "human_takeover_at", "opted_out_at", "last_message_at", "created_at", "updated_at",
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
_CUMULATIVE = {choices: ([name for name, _ in choices], list(accumulate(weight for _, weight in choices)))
               for choices in (RECENT_STATUSES, OLD_STATUSES)}  # fmt: skip
MEDIA_SHARE = 0.06
GREETING_ONLY_SHARE = 0.05  # first messages that only greet
# The generated clinic: São Paulo, open weekdays 8-12 and 13-19 and Saturday mornings (its settings say so too).
CLINIC_ZONE = ZoneInfo("America/Sao_Paulo")
CLINIC_HOURS = {**{day: [["08:00", "12:00"], ["13:00", "19:00"]] for day in
                   ("monday", "tuesday", "wednesday", "thursday", "friday")},
                "saturday": [["08:00", "13:00"]], "sunday": []}  # fmt: skip
_OPEN_MINUTES = [[tuple(int(clock[:2]) * 60 + int(clock[3:]) for clock in pair) for pair in CLINIC_HOURS[day]]
                 for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")]  # fmt: skip
# When patients start a conversation, on the clinic's clock: per hour of the day, per weekday (Monday first).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 12, 13, 14, 14, 13, 12, 11, 10, 9, 7, 4, 2)
WEEKDAY_WEIGHTS = (12, 11, 11, 11, 10, 7, 4)


@dataclass(frozen=True)
class Secretary:
    id: uuid.UUID
    first_name: str
    pace: float = 1.0  # her answers take this many times the front desk's usual time
    care: float = 0.0  # -0.5..0.5: how much happier (or less) her patients leave


@dataclass
class Built:
    """One generated conversation with what belongs to it."""

    conversation: tuple
    lead: tuple | None
    messages: list[tuple] = field(default_factory=list)
    history: list[tuple] = field(default_factory=list)  # the lead's edit history
    insights: list[tuple] = field(default_factory=list)
    calls: list[tuple] = field(default_factory=list)
    mentions: list[tuple] = field(default_factory=list)
    feedback: list[tuple] = field(default_factory=list)


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


def secretaries_of(rng: random.Random, rows: list[tuple]) -> list[Secretary]:
    """The secretaries of `user_rows`, each with her own pace and knack."""
    return [Secretary(row[0], row[2].split()[0], rng.uniform(0.6, 1.8), rng.uniform(-0.5, 0.5)) for row in rows]


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
    created = _start_time(rng, now)
    status = _weighted(rng, RECENT_STATUSES if (now - created).days < 14 else OLD_STATUSES)
    live_handoff = status in ("WAITING_SECRETARY", "TRANSFERRED")
    secretary = rng.choice(secretaries) if secretaries and rng.random() < (0.9 if live_handoff else 0.6) else None
    takeover = None
    if secretary and message_count and (live_handoff or rng.random() < 0.3):
        takeover = rng.randrange(message_count)
    senders = _senders(rng, message_count, takeover)
    times = _message_times(rng, created, senders, now, secretary.pace if secretary else 1.0)
    created, last = (times[0], times[-1]) if times else (created, None)
    urgent = rng.random() < (0.25 if live_handoff else 0.02)
    conversation = (
        conversation_id, f"{phone}@c.us", phone, name, status, urgent,
        rng.choice(words.URGENCY_REASONS) if urgent else None, secretary.id if secretary else None,
        times[takeover] if takeover is not None else None, last if rng.random() < 0.01 else None,
        last, created, last or created,
    )  # fmt: skip
    lead, history = outcomes.lead_rows(rng, conversation_id, name, phone, secretary, created, now)
    talk = _Talk(rng, conversation_id, f"{phone}@c.us", first, secretary, now)
    built = Built(conversation, lead, talk.messages(senders, times, takeover), history)
    built.insights, built.calls, built.mentions = talk.insights, talk.calls, talk.mentions
    if status == "CLOSED" and last and (answer := outcomes.feedback_row(rng, conversation_id, secretary, last, now)):
        built.feedback.append(answer)
    return built


def _weighted(rng: random.Random, choices: tuple) -> str:
    names, totals = _CUMULATIVE[choices]
    return rng.choices(names, cum_weights=totals)[0]


def _start_time(rng: random.Random, now: datetime) -> datetime:
    """A moment of the last DAYS_SPREAD days, busier by day and on weekdays (rejection sampling)."""
    top = max(HOUR_WEIGHTS) * max(WEEKDAY_WEIGHTS)
    while True:
        at = now - timedelta(days=rng.random() * DAYS_SPREAD)
        local = at.astimezone(CLINIC_ZONE)
        if rng.random() * top < HOUR_WEIGHTS[local.hour] * WEEKDAY_WEIGHTS[local.weekday()]:
            return at


def _senders(rng: random.Random, count: int, takeover: int | None) -> list[str]:
    """Who writes each message: the patient first; the bot answers until a secretary takes over."""
    senders, sender = [], "PATIENT"
    for index in range(count):
        if index:
            sender = _next_sender(rng, sender, "SECRETARY" if takeover is not None and index >= takeover else "BOT")
        senders.append(sender)
    return senders


def _next_sender(rng: random.Random, previous: str, clinic: str) -> str:
    chance = rng.random()
    if previous == "PATIENT":
        return "PATIENT" if chance < 0.15 else clinic
    return clinic if chance < 0.25 else "PATIENT"


def _message_times(
    rng: random.Random, start: datetime, senders: list[str], now: datetime, pace: float
) -> list[datetime]:
    """Each message's moment after the one before it, by who wrote both. Never in the future, and never two at
    once: a message that would come later is squeezed a microsecond after the one before, so the order of the
    conversation is the order it was written in (the rollups order by time)."""
    times: list[datetime] = []
    for index, sender in enumerate(senders):
        at = start if not index else _written_at(rng, times[-1], senders[index - 1], sender, pace)
        times.append(min(at, now - timedelta(microseconds=len(senders) - 1 - index)))
    return times


def _written_at(rng: random.Random, after: datetime, previous: str, sender: str, pace: float) -> datetime:
    if sender == "BOT":
        return after + timedelta(seconds=rng.uniform(1, 4) if previous == "BOT" else rng.uniform(3, 25))
    if sender == "SECRETARY":
        if previous == "SECRETARY":
            return after + timedelta(seconds=rng.uniform(10, 120))
        return _next_open(after) + timedelta(seconds=pace * rng.lognormvariate(5.3, 1.1))  # median ~3.5 min
    if previous == "PATIENT":
        return after + timedelta(seconds=rng.uniform(5, 90))
    pause = rng.random()
    seconds = rng.uniform(20, 600) if pause < 0.8 else rng.uniform(3600, 3 * 86400 if pause > 0.97 else 8 * 3600)
    return after + timedelta(seconds=seconds)


def _next_open(at: datetime) -> datetime:
    """`at` if the clinic is open then, else when it next opens."""
    local = at.astimezone(CLINIC_ZONE)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        midnight = (day + timedelta(days=ahead)).replace(tzinfo=None)
        for start, end in _OPEN_MINUTES[midnight.weekday()]:
            opens = (midnight + timedelta(minutes=start)).replace(tzinfo=CLINIC_ZONE)
            closes = (midnight + timedelta(minutes=end)).replace(tzinfo=CLINIC_ZONE)
            if local < closes:
                return max(local, opens).astimezone(at.tzinfo)
    return at  # never open: answered at once


class _Talk:
    """The messages of one conversation, on one or two topics, in the voices of the patient, the bot and the
    secretary (after she takes over the chat, she answers instead of the bot), and what each bot turn recorded."""

    def __init__(self, rng: random.Random, conversation_id, chat_id: str, first_name: str, secretary, now) -> None:
        self.rng, self.conversation_id, self.chat_id, self.now = rng, conversation_id, chat_id, now
        self.secretary = secretary
        topics = rng.sample(words.TOPICS, 2)
        self.topics = [topics[0]] * 4 + [topics[1]]
        self.slots = {"proc": rng.choice(words.PROCEDURES), "plan": rng.choice(words.PLANS),
                      "symptom": rng.choice(words.SYMPTOMS), "name": first_name,
                      "secretary": secretary.first_name if secretary else "Ana"}  # fmt: skip
        self.insights: list[tuple] = []
        self.calls: list[tuple] = []
        self.mentions: list[tuple] = []

    def messages(self, senders: list[str], times: list[datetime], takeover: int | None) -> list[tuple]:
        rows, said = [], None
        for index, (sender, at) in enumerate(zip(senders, times, strict=True)):
            if sender == "PATIENT":
                greets = index == 0 or at - times[index - 1] > timedelta(hours=3)
                human = takeover is not None and index >= takeover
                row, said = self._patient_row(at, greets, index == 0, human)
            else:
                row = self._clinic_row(sender, at)
                if sender == "BOT" and senders[index - 1] == "PATIENT":  # a turn: the bot answered `said`
                    self.insights.append(insight_row(self.rng, self.conversation_id, said))
                    self.calls += call_rows(self.rng, self.conversation_id, said, at, row[8], index, self.now)
            rows.append(row)
        return rows

    def _fill(self, template: str, **extra: str) -> str:
        rng = self.rng
        text = template.format(day=rng.choice(words.DAYS), hour=rng.choice(words.HOURS),
                               price=rng.choice(words.PRICES), **self.slots, **extra)  # fmt: skip
        return text[0].upper() + text[1:]  # "{proc} dói?" begins with a procedure in lower case

    def _patient_text(self, message_id: uuid.UUID, at: datetime, greets: bool) -> tuple[str, PatientSaid]:
        rng, topic = self.rng, self.rng.choice(self.topics)
        template = rng.choice(words.PATIENT[topic])
        body = (rng.choice(words.GREETINGS) if greets else "") + self._fill(template)
        if competitor := competitor_named(rng, at, self.now):
            body += self._fill(rng.choice(words.COMPETITOR_PHRASES), competitor=competitor)
            self.mentions.append(mention_row(rng, self.conversation_id, message_id, competitor, at))
        body = body.lower() if rng.random() < 0.2 else body
        return body, PatientSaid(message_id, at, topic, template, self.slots["proc"] if "{proc}" in template else "")

    def _patient_row(self, at: datetime, greets: bool, first: bool, human: bool) -> tuple[tuple, PatientSaid]:
        rng, message_id = self.rng, new_id(self.rng)
        kind, mimetype, filename, url = "TEXT", None, None, None
        if rng.random() < MEDIA_SHARE:
            kind, mimetype, filename, body = rng.choice(words.MEDIA)
            url, said = f"https://media.clinica.dev/{message_id.hex}", PatientSaid(message_id, at, None)
        elif first and rng.random() < GREETING_ONLY_SHARE:
            body = rng.choice([greeting for greeting in words.GREETINGS if greeting]).strip()
            said = PatientSaid(message_id, at, None, "greeting")
        else:
            body, said = self._patient_text(message_id, at, greets)
        row = (message_id, self.conversation_id, "INBOUND", "PATIENT", None, kind, self.chat_id, words.CLINIC_CHAT_ID,
               body, mimetype, filename, url, f"false_{self.chat_id}_{message_id.hex}", None, None, at, at,
               min(at + timedelta(seconds=2), self.now), "human_takeover" if human else "replied", at)  # fmt: skip
        return row, said

    def _clinic_row(self, sender: str, at: datetime) -> tuple:
        rng, topic = self.rng, self.rng.choice(self.topics)
        message_id = new_id(rng)
        bank = words.SECRETARY if sender == "SECRETARY" else words.BOT[topic]
        author = self.secretary.id if sender == "SECRETARY" else None
        acked = min(at + timedelta(seconds=rng.uniform(1, 600)), self.now)
        return (message_id, self.conversation_id, "OUTBOUND", sender, author, "TEXT", words.CLINIC_CHAT_ID,
                self.chat_id, self._fill(rng.choice(bank)), None, None, None, f"true_{self.chat_id}_{message_id.hex}",
                rng.choice(("READ", "READ", "DEVICE")), acked, at, at, None, None, at)  # fmt: skip

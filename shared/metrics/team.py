"""One secretary's numbers, the productivity report and the leaderboard (cards 127, 125, 141).

A person's work in the period (the scope is the person, not only the conversations assigned to her):
- `messages_sent`: secretary messages she sent (`sender_user_id`), in any conversation.
- `conversations_handled`: conversations assigned to her now with at least one message (either side) in the period.
- `leads_converted`: her live leads (assigned to her now) whose `converted_at` falls in the period, whenever they
  were created.
- `avg_response_time_seconds`: the mean wall-clock wait, one decimal, over the waits (shared/metrics/rollups.py)
  that started in the period and that one of her messages ended; `n` counts them.
- `sla_compliance_rate`: the share of those waits ended within the clinic's `sla_seconds`, a percentage with one
  decimal (null without any).
- `nps`: the NPS of the feedback given in the period on conversations assigned to her (shared/metrics/quality.py).

Productivity (card 125): `messages_sent`, `leads_converted` and `avg_response_time_seconds` for `user_id` (a USER:
herself), with `weekly`, one entry per ISO week (`2026-W45`) touching the period, counting only the period's days.
An ADMIN without `user_id` gets the team: the same figures over everyone's work (every secretary message, sent from
the API or typed on the clinic's phone; every converted lead; every wait a person ended), the team's `weekly`, and
`users`: one row per active secretary (role USER), by name.

Leaderboard (card 141): every active secretary's `leads_converted`, `avg_response_time_seconds` and `nps` as above.
Each criterion becomes points 0-100 across them: points = 100 x (value - worst) / (best - worst), where best is the
highest value (the lowest for response time) and worst the lowest (the highest); everyone gets 100 when all values
are equal, and a secretary without a value (no answered wait, no feedback) gets 0. A criterion nobody has a value
for is left out. score = sum(weight x points) / sum(weight) over the criteria left in, one decimal (null when
those weights are all 0). The top 10 by score, ties by name. `user_id` does not apply: the board ranks everyone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.metrics import quality
from shared.metrics.answers import Kpi, KpiMetaOut, MetaOut, kpi_answer
from shared.metrics.context import MetricsContext
from shared.metrics.counts import bucket_starts
from shared.metrics.period import MetricsQuery

BOARD_SIZE = 10
Who = uuid.UUID | None

_SENT = """
SELECT m.sender_user_id, date_trunc('week', m.created_at AT TIME ZONE :zone), count(*)
FROM conversation_messages m
WHERE m.created_at >= :start AND m.created_at < :end AND m.sender_kind = 'SECRETARY' AND {who}
GROUP BY 1, 2
"""
_CONVERTED = """
SELECT l.assigned_to_user_id, date_trunc('week', l.converted_at AT TIME ZONE :zone), count(*)
FROM leads l
WHERE l.deleted_at IS NULL AND l.converted_at >= :start AND l.converted_at < :end AND {who}
GROUP BY 1, 2
"""
# A wait a secretary answered ends at her message: said of `m` too, so that the join reads the index of the
# secretaries' messages (migration 0015) instead of every ending message's row.
_ANSWERED = """
SELECT m.sender_user_id, date_trunc('week', w.started_at AT TIME ZONE :zone), count(*),
       sum(extract(epoch FROM w.ended_at - w.started_at)),
       count(*) FILTER (WHERE w.ended_at - w.started_at <= make_interval(secs => :sla))
FROM response_waits w JOIN conversation_messages m ON m.id = w.end_message_id AND m.sender_kind = 'SECRETARY'
WHERE w.started_at >= :start AND w.started_at < :end AND w.responder = 'SECRETARY' AND {who}
GROUP BY 1, 2
"""
_HANDLED = """
SELECT count(*) FROM conversations c
WHERE c.assigned_to_user_id = :user_id AND EXISTS (
    SELECT 1 FROM conversation_messages m
    WHERE m.conversation_id = c.id AND m.created_at >= :start AND m.created_at < :end)
"""
_SECRETARIES = "SELECT id, full_name FROM users WHERE role = 'USER' AND status = 'ACTIVE' ORDER BY full_name, id"


@dataclass
class Work:
    """What someone did in a span: summed parts, so weeks and people add up exactly (ratios of sums)."""

    messages_sent: int = 0
    leads_converted: int = 0
    answered: int = 0
    answer_seconds: float = 0.0
    within_sla: int = 0

    def __add__(self, other: Work) -> Work:
        return Work(self.messages_sent + other.messages_sent, self.leads_converted + other.leads_converted,
                    self.answered + other.answered, self.answer_seconds + other.answer_seconds,
                    self.within_sla + other.within_sla)  # fmt: skip

    @property
    def avg_response_time_seconds(self) -> float | None:
        return round(self.answer_seconds / self.answered, 1) if self.answered else None

    @property
    def sla_compliance_rate(self) -> float | None:
        return round(self.within_sla / self.answered * 100, 1) if self.answered else None

    def card(self) -> dict[str, int | float | None]:
        return {"messages_sent": self.messages_sent, "leads_converted": self.leads_converted,
                "avg_response_time_seconds": self.avg_response_time_seconds}  # fmt: skip


Weekly = dict[tuple[Who, datetime], Work]  # (person, ISO week's Monday) -> work


def work_by_week(session: Session, ctx: MetricsContext, users: list[uuid.UUID] | None, *, sent: bool = True) -> Weekly:
    """Work per person and week for `users`, or everyone's (None); `sent=False` skips the messages (the costliest
    part: every message of the period is read to find the secretaries')."""
    params = {**ctx.bounds(), "users": users, "sla": ctx.settings.sla_seconds}
    found: Weekly = {}

    def run(sql: str, column: str):
        who = "TRUE" if users is None else f"{column} = ANY(:users)"
        return session.execute(text(sql.format(who=who)), params).all()

    for who, week, count in run(_SENT, "m.sender_user_id") if sent else ():
        found[(who, week)] = found.get((who, week), Work()) + Work(messages_sent=count)
    for who, week, count in run(_CONVERTED, "l.assigned_to_user_id"):
        found[(who, week)] = found.get((who, week), Work()) + Work(leads_converted=count)
    for who, week, count, seconds, within in run(_ANSWERED, "m.sender_user_id"):
        found[(who, week)] = found.get((who, week), Work()) + Work(answered=count, answer_seconds=float(seconds),
                                                                   within_sla=within)  # fmt: skip
    return found


def total(work: Weekly) -> Work:
    return sum(work.values(), Work())


def total_of(work: Weekly, who: Who) -> Work:
    return sum((part for (person, _), part in work.items() if person == who), Work())


def weekly(ctx: MetricsContext, work: Weekly) -> list[dict]:
    """Every ISO week touching the period, zeros included."""
    rows = []
    for monday in bucket_starts(ctx, "week"):
        year, week, _ = monday.isocalendar()
        week_work = sum((part for (_, start), part in work.items() if start == monday), Work())
        rows.append({"week": f"{year}-W{week:02d}", **week_work.card()})
    return rows


def user_kpi(session: Session, ctx: MetricsContext) -> Kpi:
    """The KPI set of the scope's user (card 127)."""
    work = total(work_by_week(session, ctx, [ctx.user_id]))
    handled = session.execute(text(_HANDLED), ctx.bounds()).scalar_one()
    satisfaction = quality.nps(session, ctx).figures.get("nps")
    figures = {"messages_sent": work.messages_sent, "conversations_handled": handled,
               "leads_converted": work.leads_converted, "avg_response_time_seconds": work.avg_response_time_seconds,
               "sla_compliance_rate": work.sla_compliance_rate, "nps": satisfaction}  # fmt: skip
    return Kpi(figures, work.answered, {"sla_target_seconds": ctx.settings.sla_seconds})


def secretaries(session: Session) -> list[tuple[uuid.UUID, str]]:
    """Active users of role USER, by name."""
    return [(row.id, row.full_name) for row in session.execute(text(_SECRETARIES))]


def productivity(session: Session, ctx: MetricsContext) -> dict:
    """The productivity report (card 125): one user's, or the team's with a row per secretary."""
    users = None if ctx.user_id is None else [ctx.user_id]
    current: Weekly = {}

    def compute(session: Session, period_ctx: MetricsContext) -> Kpi:
        work = work_by_week(session, period_ctx, users)
        if period_ctx.period == ctx.period:  # kept: the weekly trend and the rows read the same figures
            current.update(work)
        return Kpi(total(work).card(), total(work).answered)

    answer = {**kpi_answer(session, ctx, compute), "weekly": weekly(ctx, current)}
    if ctx.user_id is None:
        answer["users"] = [{"user_id": str(person), "name": name, **total_of(current, person).card()}
                           for person, name in secretaries(session)]  # fmt: skip
    return answer


class LeaderboardQuery(MetricsQuery):
    weight_conversions: float = Field(default=0.5, ge=0, le=100, description="weight of leads_converted")
    weight_response_time: float = Field(default=0.3, ge=0, le=100, description="weight of avg_response_time_seconds")
    weight_satisfaction: float = Field(default=0.2, ge=0, le=100, description="weight of nps")

    @model_validator(mode="after")
    def _some_weight(self) -> LeaderboardQuery:
        if not (self.weight_conversions or self.weight_response_time or self.weight_satisfaction):
            raise ValueError("at least one weight must be above 0")
        return self


# (criterion, its weight's parameter, whether a higher value is better)
CRITERIA = (
    ("leads_converted", "weight_conversions", True),
    ("avg_response_time_seconds", "weight_response_time", False),
    ("nps", "weight_satisfaction", True),
)


def criterion_points(values: dict[uuid.UUID, float | None], higher_is_better: bool) -> dict[uuid.UUID, float] | None:
    """0-100 from the worst value to the best; None when nobody has a value."""
    known = [value for value in values.values() if value is not None]
    if not known:
        return None
    best, worst = (max(known), min(known)) if higher_is_better else (min(known), max(known))
    return {person: 0.0 if value is None else 100.0 if best == worst else 100 * (value - worst) / (best - worst)
            for person, value in values.items()}  # fmt: skip


def _secretary_rows(session: Session, ctx: MetricsContext) -> dict[uuid.UUID, dict]:
    people = secretaries(session)
    work = work_by_week(session, ctx, [person for person, _ in people], sent=False) if people else {}
    rows = {}
    for person, name in people:
        done = total_of(work, person)
        rows[person] = {"user_id": str(person), "name": name, "leads_converted": done.leads_converted,
                        "avg_response_time_seconds": done.avg_response_time_seconds,
                        "nps": quality.nps(session, replace(ctx, user_id=person)).figures.get("nps")}  # fmt: skip
    return rows


def leaderboard(session: Session, ctx: MetricsContext, query: LeaderboardQuery) -> dict:
    """The top secretaries by weighted score (card 141)."""
    rows = _secretary_rows(session, ctx)
    points, weights = {}, {}
    for name, weight, higher_is_better in CRITERIA:
        found = criterion_points({person: row[name] for person, row in rows.items()}, higher_is_better)
        if found is not None:
            points[name], weights[name] = found, getattr(query, weight)
    weight_sum = sum(weights.values())
    for person, row in rows.items():
        row["points"] = {name: round(found[person], 1) for name, found in points.items()}
        score = sum(weights[name] * found[person] for name, found in points.items())
        row["score"] = round(score / weight_sum, 1) if weight_sum else None
    ranked = sorted(rows.values(), key=lambda row: (row["score"] is None, -(row["score"] or 0), row["name"]))
    shares = {name: round(weight / weight_sum, 4) if weight_sum else None for name, weight in weights.items()}
    return {"leaderboard": [{"rank": place, **row} for place, row in enumerate(ranked[:BOARD_SIZE], 1)],
            "weights": shares, "secretaries": len(rows)}  # fmt: skip


class UserKpiOut(KpiMetaOut):
    messages_sent: int = Field(examples=[340])
    conversations_handled: int = Field(examples=[41])
    leads_converted: int = Field(examples=[12])
    avg_response_time_seconds: float | None = Field(examples=[120.5])
    sla_compliance_rate: float | None = Field(description="% of her answers within the SLA", examples=[85.0])
    nps: float | None = Field(examples=[62.5])
    sla_target_seconds: int = Field(examples=[300])


class ProductivityFiguresOut(BaseModel):
    messages_sent: int = Field(examples=[340])
    leads_converted: int = Field(examples=[12])
    avg_response_time_seconds: float | None = Field(examples=[120.0])


class WeekOut(ProductivityFiguresOut):
    week: str = Field(description="ISO week", examples=["2026-W45"])


class SecretaryRowOut(ProductivityFiguresOut):
    user_id: str
    name: str = Field(examples=["Ana Silva"])


class ProductivityOut(ProductivityFiguresOut, KpiMetaOut):
    weekly: list[WeekOut]
    users: list[SecretaryRowOut] | None = Field(default=None, description="ADMIN without user_id: each active "
                                                "secretary's figures, by name")  # fmt: skip


class BoardRowOut(BaseModel):
    rank: int = Field(examples=[1])
    user_id: str
    name: str = Field(examples=["Ana Silva"])
    score: float | None = Field(description="0-100, one decimal", examples=[95.0])
    leads_converted: int = Field(examples=[12])
    avg_response_time_seconds: float | None = Field(examples=[120.0])
    nps: float | None = Field(examples=[70.0])
    points: dict[str, float] = Field(description="each criterion's 0-100 points", examples=[{"leads_converted": 100}])


class LeaderboardOut(MetaOut):
    leaderboard: list[BoardRowOut] = Field(description="the top 10, best first, ties by name")
    weights: dict[str, float | None] = Field(description="the criteria used and their share of the score",
                                             examples=[{"leads_converted": 0.5}])  # fmt: skip
    secretaries: int = Field(description="active secretaries ranked", examples=[4])

"""The lead's journey: which status may follow which (card 097's validated transitions).

A lead only moves forward through the funnel, and may be lost from any open step. SCHEDULED -> LOST is the
no-show; LOST -> NEW reopens a lead that comes back. Nothing leaves SCHEDULED for an earlier step: a patient
who reschedules stays SCHEDULED.
"""

from __future__ import annotations

from types import MappingProxyType

from shared.errors import Conflict
from shared.leads.models import LeadStatus

NEW, ENGAGED, INTERESTED, READY, SCHEDULED, LOST = LeadStatus

TRANSITIONS = MappingProxyType({
    NEW: frozenset({ENGAGED, INTERESTED, READY, SCHEDULED, LOST}),
    ENGAGED: frozenset({INTERESTED, READY, SCHEDULED, LOST}),
    INTERESTED: frozenset({READY, SCHEDULED, LOST}),
    READY: frozenset({SCHEDULED, LOST}),
    SCHEDULED: frozenset({LOST}),
    LOST: frozenset({NEW}),
})  # fmt: skip


def allowed_moves(current: LeadStatus) -> list[LeadStatus]:
    """The statuses a lead in `current` may move to, in funnel order."""
    return [status for status in LeadStatus if status in TRANSITIONS[current]]


def can_move(current: LeadStatus, target: LeadStatus) -> bool:
    """Whether `current -> target` is a move of the machine (staying put is not a move)."""
    return target in TRANSITIONS[current]


def ensure_can_move(current: LeadStatus, target: LeadStatus) -> None:
    """Raise Conflict (409) naming the allowed moves when `current -> target` is not one of them."""
    if not can_move(current, target):
        allowed = ", ".join(allowed_moves(current))
        raise Conflict(f"A lead in status {current} cannot move to {target}; allowed: {allowed}")

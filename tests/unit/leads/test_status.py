"""The lead status machine: forward through the funnel, lost from anywhere open, reopened from LOST."""

import pytest

from shared.errors import Conflict
from shared.leads.models import LeadStatus
from shared.leads.status import TRANSITIONS, allowed_moves, can_move, ensure_can_move

NEW, ENGAGED, INTERESTED, READY, SCHEDULED, LOST = LeadStatus

EXPECTED = {
    NEW: [ENGAGED, INTERESTED, READY, SCHEDULED, LOST],
    ENGAGED: [INTERESTED, READY, SCHEDULED, LOST],
    INTERESTED: [READY, SCHEDULED, LOST],
    READY: [SCHEDULED, LOST],
    SCHEDULED: [LOST],
    LOST: [NEW],
}


def test_every_status_has_its_moves_listed_in_funnel_order():
    assert set(TRANSITIONS) == set(LeadStatus)
    assert {status: allowed_moves(status) for status in LeadStatus} == EXPECTED


@pytest.mark.parametrize("current", list(LeadStatus))
@pytest.mark.parametrize("target", list(LeadStatus))
def test_can_move_exactly_along_the_listed_moves(current, target):
    assert can_move(current, target) is (target in EXPECTED[current])


@pytest.mark.parametrize("status", list(LeadStatus))
def test_staying_put_is_not_a_move(status):
    assert not can_move(status, status)


def test_a_refused_move_is_a_conflict_naming_the_allowed_ones():
    with pytest.raises(Conflict) as refused:
        ensure_can_move(READY, ENGAGED)

    assert refused.value.status == 409
    assert "READY" in refused.value.detail and "ENGAGED" in refused.value.detail
    assert refused.value.detail.endswith("allowed: SCHEDULED, LOST")


def test_allowed_moves_pass_silently():
    ensure_can_move(NEW, SCHEDULED)
    ensure_can_move(SCHEDULED, LOST)
    ensure_can_move(LOST, NEW)


def test_a_scheduled_lead_never_goes_back_down_the_funnel():
    assert not any(can_move(SCHEDULED, earlier) for earlier in (NEW, ENGAGED, INTERESTED, READY))

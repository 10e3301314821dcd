"""Business time on the clinic's calendar: weekly intervals, Brazil's holidays and the clinic's closures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shared.clinic.calendar import BusinessCalendar, BusinessClock
from shared.clinic.schemas import DEFAULT_HOURS, ClinicSettingsOut, Closure
from tests.functions.metrics_support import at


def calendar(**changes) -> BusinessCalendar:
    values = {"timezone": "America/Sao_Paulo", "business_hours": DEFAULT_HOURS, "holiday_country": "BR",
              "holiday_subdivision": "SP", "closures": [], "sla_seconds": 300, "competitors": [],
              "monthly_operational_cost": 0, "implementation_cost": 0, "avg_transaction_value": 0,
              "secretary_hourly_cost": 0, "updated_at": datetime.now(UTC)} | changes  # fmt: skip
    return BusinessCalendar(ClinicSettingsOut(**values))


def test_a_wait_across_the_lunch_break_counts_only_open_minutes():
    # Wednesday 2026-11-04: 11:50 -> 13:10 is 10 min before lunch + 10 min after.
    assert calendar().business_seconds(at("2026-11-04 11:50"), at("2026-11-04 13:10")) == 20 * 60


def test_a_wait_across_the_night_counts_the_evening_and_the_morning():
    # Thursday 17:55 -> Friday 08:07: 5 min + 7 min.
    assert calendar().business_seconds(at("2026-11-05 17:55"), at("2026-11-06 08:07")) == 12 * 60


def test_holidays_national_and_of_the_state_are_closed():
    cal = calendar()
    assert cal.is_closed_day(date(2026, 11, 20))  # Consciência Negra, national since 2024
    assert cal.is_closed_day(date(2026, 7, 9))  # Revolução Constitucionalista: São Paulo only
    assert not calendar(holiday_subdivision="RJ").is_closed_day(date(2026, 7, 9))
    assert cal.business_seconds(at("2026-11-20 09:00"), at("2026-11-20 11:00")) == 0
    assert "Tiradentes" in cal.holidays_of(2026).values()


def test_the_clinics_own_closures_and_saturday_hours():
    cal = calendar(closures=[Closure(start=date(2026, 12, 24), end=date(2026, 12, 26))])
    assert cal.open_intervals(date(2026, 12, 24)) == []
    # Saturday 2026-11-07 opens 08-12 only; Sunday is closed: 11:00 Saturday -> Monday 08:30 is 60 + 30 min.
    assert cal.business_seconds(at("2026-11-07 11:00"), at("2026-11-09 08:30")) == 90 * 60
    assert cal.is_open(at("2026-11-07 11:59")) and not cal.is_open(at("2026-11-07 12:00"))


def test_another_zone_reads_the_hours_on_its_own_wall_clock():
    manaus = calendar(timezone="America/Manaus")  # UTC-4, one hour behind São Paulo
    opens, _ = manaus.open_intervals(date(2026, 11, 4))[0]
    assert opens == datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


def test_the_clock_for_many_spans_agrees_with_the_calendar():
    cal, start = calendar(), at("2026-11-02 00:00")
    clock = BusinessClock(cal, start, start + timedelta(days=14))
    spans = [(at("2026-11-03 07:00"), at("2026-11-03 08:30")), (at("2026-11-06 17:00"), at("2026-11-09 09:00")),
             (at("2026-11-14 09:00"), at("2026-11-14 09:01"))]  # fmt: skip
    for begin, end in spans:
        assert clock.seconds(begin, end) == cal.business_seconds(begin, end)
    # 07:00-08:30 opens at 8: 30 min; Friday 17-18 + Saturday 08-12 + Monday 08-09: 6 h; one minute.
    assert [clock.seconds(b, e) for b, e in spans] == [30 * 60, 6 * 3600, 60]

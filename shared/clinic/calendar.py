"""When the clinic is open: its weekly hours, minus Brazil's national and state holidays and its own closures.

Business time between two instants is the part of that span inside open intervals, computed on the wall clock of
the clinic's zone (a day's "08:00" is 08:00 there whatever the offset that day).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from shared.clinic.schemas import WEEKDAYS, ClinicSettingsOut


def _clock(value: str) -> time | None:
    return None if value == "24:00" else time.fromisoformat(value)


@dataclass
class BusinessCalendar:
    settings: ClinicSettingsOut
    zone: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.settings.timezone)
        self._holiday_years: dict[int, dict[date, str]] = {}

    def holidays_of(self, year: int) -> dict[date, str]:
        """The national and state holidays of `year`, named in Portuguese."""
        if year not in self._holiday_years:
            import holidays

            found = holidays.country_holidays(self.settings.holiday_country,
                                              subdiv=self.settings.holiday_subdivision or None, years=year,
                                              language="pt_BR")  # fmt: skip
            self._holiday_years[year] = dict(found.items())
        return self._holiday_years[year]

    @cached_property
    def _closed_days(self) -> set[date]:
        days: set[date] = set()
        for closure in self.settings.closures:
            day = closure.start
            while day <= closure.last:
                days.add(day)
                day += timedelta(days=1)
        return days

    def is_closed_day(self, day: date) -> bool:
        return day in self._closed_days or day in self.holidays_of(day.year)

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC instants (none on a holiday or a closure)."""
        if self.is_closed_day(day):
            return []
        intervals = []
        for start, end in self.settings.business_hours.get(WEEKDAYS[day.weekday()], []):
            opens = datetime.combine(day, _clock(start) or time(0), self.zone)
            closing = _clock(end)
            closes = datetime.combine(
                day + timedelta(days=1) if closing is None else day, closing or time(0), self.zone
            )
            intervals.append((opens.astimezone(UTC), closes.astimezone(UTC)))
        return intervals

    def intervals_between(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Every open interval that touches [start, end), in order."""
        day, last = start.astimezone(self.zone).date() - timedelta(days=1), end.astimezone(self.zone).date()
        found = []
        while day <= last:
            found.extend(pair for pair in self.open_intervals(day) if pair[0] < end and pair[1] > start)
            day += timedelta(days=1)
        return found

    def is_open(self, at: datetime) -> bool:
        return any(opens <= at < closes for opens, closes in self.intervals_between(at, at + timedelta(seconds=1)))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of [start, end) that fall in open hours."""
        return BusinessClock(self, start, end).seconds(start, end)


class BusinessClock:
    """Business seconds for many spans inside one period, from the period's intervals computed once."""

    def __init__(self, calendar: BusinessCalendar, start: datetime, end: datetime) -> None:
        self.intervals = calendar.intervals_between(start, end)
        self.starts = [opens for opens, _ in self.intervals]
        cumulative, self.before = 0.0, []
        for opens, closes in self.intervals:
            self.before.append(cumulative)
            cumulative += (closes - opens).total_seconds()
        self.total = cumulative

    def _elapsed(self, at: datetime) -> float:
        """Open seconds from the first interval up to `at`."""
        index = bisect.bisect_right(self.starts, at) - 1
        if index < 0:
            return 0.0
        opens, closes = self.intervals[index]
        return self.before[index] + (min(at, closes) - opens).total_seconds()

    def seconds(self, start: datetime, end: datetime) -> float:
        return max(0.0, self._elapsed(end) - self._elapsed(start))

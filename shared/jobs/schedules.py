"""When a job is due: every N minutes, or daily / weekly at a time on the clinic's wall clock.

A slot is a whole minute in UTC. `latest_slot(at)` is the last slot at or before `at` and `next_slot(after)` the
first one after it; both depend on nothing but their arguments, so every tick for the same minute, however often it
is retried, names the same slots. Local times are read in the clinic's zone: "daily 03:30" in America/Sao_Paulo is
06:30 UTC. A local time that a DST change skips or repeats resolves as zoneinfo's `fold=0` does (the first reading).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60


def floor_minute(at: datetime) -> datetime:
    """`at` in UTC with its seconds dropped (a naive `at` is read as UTC)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(second=0, microsecond=0)


class Schedule(ABC):
    @abstractmethod
    def latest_slot(self, at: datetime, zone: ZoneInfo) -> datetime:
        """The last slot at or before `at`."""

    @abstractmethod
    def next_slot(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first slot strictly after `after`."""

    @abstractmethod
    def describe(self, zone: ZoneInfo) -> str:
        """The schedule in words: "every 1 min", "daily 03:30 America/Sao_Paulo"."""


@dataclass(frozen=True)
class Every(Schedule):
    """Every `minutes` minutes, on the minutes of the UTC clock divisible by it (every 15: :00, :15, :30, :45)."""

    minutes: int

    def __post_init__(self) -> None:
        if not 1 <= self.minutes <= MINUTES_PER_DAY:
            raise ValueError(f"every N minutes needs 1 <= N <= {MINUTES_PER_DAY}, not {self.minutes}")

    def latest_slot(self, at: datetime, zone: ZoneInfo) -> datetime:
        minute = int(floor_minute(at).timestamp()) // 60
        return datetime.fromtimestamp((minute - minute % self.minutes) * 60, UTC)

    def next_slot(self, after: datetime, zone: ZoneInfo) -> datetime:
        return self.latest_slot(after, zone) + timedelta(minutes=self.minutes)

    def describe(self, zone: ZoneInfo) -> str:
        return f"every {self.minutes} min"


@dataclass(frozen=True)
class AtLocalTime(Schedule, ABC):
    """At `at` ("HH:MM") on the clinic's clock, on the days `runs_on` accepts."""

    at: str

    def __post_init__(self) -> None:
        self.clock  # noqa: B018 (validates "HH:MM" when the job is defined, not at its first tick)

    @property
    def clock(self) -> time:
        try:
            clock = time.fromisoformat(self.at)
        except ValueError:
            raise ValueError(f"a local time is HH:MM, not {self.at!r}") from None
        if clock.second or clock.microsecond or len(self.at) != 5:
            raise ValueError(f"a local time is HH:MM, not {self.at!r}")
        return clock

    @abstractmethod
    def runs_on(self, day: date) -> bool: ...

    def _slot_on(self, day: date, zone: ZoneInfo) -> datetime:
        return datetime.combine(day, self.clock, zone).astimezone(UTC)

    def latest_slot(self, at: datetime, zone: ZoneInfo) -> datetime:
        at = floor_minute(at)
        today = at.astimezone(zone).date()
        for back in range(9):  # a week and the DST days either side
            day = today - timedelta(days=back)
            if self.runs_on(day) and (slot := self._slot_on(day, zone)) <= at:
                return slot
        raise AssertionError("unreachable: every schedule runs at least once a week")

    def next_slot(self, after: datetime, zone: ZoneInfo) -> datetime:
        today = after.astimezone(zone).date()
        for ahead in range(9):
            day = today + timedelta(days=ahead)
            if self.runs_on(day) and (slot := self._slot_on(day, zone)) > after:
                return slot
        raise AssertionError("unreachable: every schedule runs at least once a week")


@dataclass(frozen=True)
class Daily(AtLocalTime):
    def runs_on(self, day: date) -> bool:
        return True

    def describe(self, zone: ZoneInfo) -> str:
        return f"daily {self.at} {zone.key}"


@dataclass(frozen=True)
class Weekly(AtLocalTime):
    weekday: str = "monday"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"weekday must be one of {', '.join(WEEKDAYS)}, not {self.weekday!r}")

    def runs_on(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] == self.weekday

    def describe(self, zone: ZoneInfo) -> str:
        return f"weekly {self.weekday} {self.at} {zone.key}"

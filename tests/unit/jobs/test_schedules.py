"""Schedules and the registry's due slots: pure functions of the time and the clinic's zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.jobs.registry import Job, JobRegistry
from shared.jobs.schedules import Daily, Every, Weekly

SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # UTC-3 all year since 2019
MANAUS = ZoneInfo("America/Manaus")  # UTC-4
NEW_YORK = ZoneInfo("America/New_York")  # has DST: 2026-03-08 02:00 -> 03:00


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_daily_0330_job_in_sao_paulo_is_due_at_0630_utc():
    daily = Daily("03:30")
    assert daily.latest_slot(utc(2026, 12, 4, 6, 30, 59), SAO_PAULO) == utc(2026, 12, 4, 6, 30)
    assert daily.latest_slot(utc(2026, 12, 4, 6, 29), SAO_PAULO) == utc(2026, 12, 3, 6, 30)
    assert daily.next_slot(utc(2026, 12, 4, 6, 30), SAO_PAULO) == utc(2026, 12, 5, 6, 30)
    assert daily.next_slot(utc(2026, 12, 4, 6, 29, 59), SAO_PAULO) == utc(2026, 12, 4, 6, 30)
    assert daily.latest_slot(utc(2026, 12, 4, 6, 30), MANAUS) == utc(2026, 12, 3, 7, 30)
    assert daily.describe(SAO_PAULO) == "daily 03:30 America/Sao_Paulo"


def test_the_local_day_decides_not_the_utc_day():
    # 01:00 UTC on the 5th is still the 4th in São Paulo (22:00): a daily 23:00 job's latest slot is the 3rd's.
    assert Daily("23:00").latest_slot(utc(2026, 12, 5, 1, 0), SAO_PAULO) == utc(2026, 12, 4, 2, 0)
    assert Daily("23:00").latest_slot(utc(2026, 12, 5, 2, 0), SAO_PAULO) == utc(2026, 12, 5, 2, 0)


def test_dst_changes_keep_the_wall_clock_time():
    daily = Daily("09:00")
    assert daily.latest_slot(utc(2026, 3, 7, 23), NEW_YORK) == utc(2026, 3, 7, 14)  # EST, UTC-5
    assert daily.next_slot(utc(2026, 3, 7, 23), NEW_YORK) == utc(2026, 3, 8, 13)  # EDT, UTC-4
    # 02:30 does not exist on 2026-03-08 in New York: one slot that day all the same, never two, never none.
    skipped = Daily("02:30")
    slots = {skipped.latest_slot(utc(2026, 3, 8, 5) + timedelta(hours=h), NEW_YORK) for h in range(24)}
    assert len(slots) == 2 and utc(2026, 3, 8, 7, 30) in slots


def test_every_n_minutes_falls_on_the_minutes_divisible_by_n():
    assert Every(1).latest_slot(utc(2026, 12, 4, 6, 7, 42), SAO_PAULO) == utc(2026, 12, 4, 6, 7)
    assert Every(15).latest_slot(utc(2026, 12, 4, 6, 44, 59), SAO_PAULO) == utc(2026, 12, 4, 6, 30)
    assert Every(15).next_slot(utc(2026, 12, 4, 6, 44, 59), SAO_PAULO) == utc(2026, 12, 4, 6, 45)
    assert Every(1).describe(SAO_PAULO) == "every 1 min"


def test_weekly_runs_on_its_local_weekday():
    weekly = Weekly("22:00", "sunday")  # Sunday 22:00 in São Paulo is Monday 01:00 UTC
    assert weekly.latest_slot(utc(2026, 12, 9, 12), SAO_PAULO) == utc(2026, 12, 7, 1, 0)
    assert weekly.next_slot(utc(2026, 12, 7, 1, 0), SAO_PAULO) == utc(2026, 12, 14, 1, 0)
    assert weekly.describe(SAO_PAULO) == "weekly sunday 22:00 America/Sao_Paulo"


def test_a_tick_finds_each_jobs_latest_slot_only():
    def handler(context):
        return {}

    registry = JobRegistry([Job("sweep", Every(1), handler, "s"), Job("housekeeping", Daily("03:30"), handler, "h")])
    # The tick was down from 06:00 to 06:40 UTC: one slot each, the latest.
    due = {d.job.name: d.slot for d in registry.due_slots(utc(2026, 12, 4, 6, 41, 3), SAO_PAULO)}
    assert due == {"sweep": utc(2026, 12, 4, 6, 41), "housekeeping": utc(2026, 12, 4, 6, 30)}


@pytest.mark.parametrize("make", [lambda: Every(0), lambda: Daily("3:30"), lambda: Daily("25:00"),
                                  lambda: Daily("03:30:10"), lambda: Weekly("03:00", "domingo")])  # fmt: skip
def test_a_bad_schedule_fails_where_the_job_is_defined(make):
    with pytest.raises(ValueError):
        make()


def test_job_names_are_unique_and_task_id_safe():
    registry = JobRegistry([Job("sweep", Every(1), dict, "s")])
    with pytest.raises(ValueError, match="registered already"):
        registry.add(Job("sweep", Every(5), dict, "again"))
    with pytest.raises(ValueError, match="invalid job name"):
        Job("Sweep Now", Every(1), dict, "s")

"""The tick and the job runs against the real Postgres: each job runs once per slot, whoever ticks and however often."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import functions_framework
import pytest
from sqlalchemy import select, update

from shared.cli import main
from shared.clinic.models import ClinicSettings
from shared.clinic.service import get_clinic_settings
from shared.db import session_scope
from shared.jobs.catalogue import JOBS
from shared.jobs.models import JobRun, JobRunStatus
from shared.jobs.registry import Job, JobRegistry
from shared.jobs.runs import Claim, run_job
from shared.jobs.schedules import Daily, Every
from shared.jobs.tick import job_payload, job_task_id, tick
from shared.migrate import PROJECT_ROOT
from shared.queue import get_task_queue
from shared.tasks.models import TaskRecord
from tests.integration.held_queue import HeldQueue
from tests.integration.scheduler_targets import TEST_JOBS, deliver

SCHEDULER = str(PROJECT_ROOT / "functions/scheduler_tick/main.py")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def runs() -> list[JobRun]:
    with session_scope() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.job, JobRun.slot)))


def job_task_ids() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(TaskRecord.task_id).where(TaskRecord.task_id.like("job-%"))))


@pytest.fixture
def scheduler(backends):
    return functions_framework.create_app("scheduler_tick", SCHEDULER).test_client()


def post_tick(client, at: datetime):
    return client.post("/tasks/scheduler_tick", headers={"X-CloudScheduler-ScheduleTime": at.isoformat()})


def test_two_ticks_at_once_for_the_same_slot_start_each_job_once(scheduler):
    at = utc(2026, 12, 4, 9, 17, 0, 120000)  # Cloud Scheduler's time is not on the second: the slot is its minute
    barrier = threading.Barrier(2)

    def tick_once():
        barrier.wait()
        return post_tick(scheduler, at)

    with ThreadPoolExecutor(2) as pool:
        answers = [future.result() for future in [pool.submit(tick_once) for _ in range(2)]]
    assert get_task_queue().join(timeout=30)

    assert [answer.status_code for answer in answers] == [200, 200]
    enqueued = sorted(task for answer in answers for task in answer.json["enqueued"])
    expected = sorted(
        [job_task_id("sweep", utc(2026, 12, 4, 9, 17)), job_task_id("housekeeping", utc(2026, 12, 4, 6, 30))]
    )
    assert enqueued == expected == job_task_ids()
    assert sorted(task for answer in answers for task in answer.json["existing"]) == expected
    assert [(r.job, r.slot, r.status, r.attempts) for r in runs()] == [
        ("housekeeping", utc(2026, 12, 4, 6, 30), JobRunStatus.SUCCEEDED, 1),
        ("sweep", utc(2026, 12, 4, 9, 17), JobRunStatus.SUCCEEDED, 1),
    ]
    # The same minute once more (a retried tick): both slots ran, nothing is enqueued.
    again = post_tick(scheduler, at.replace(second=41))
    assert (again.json["enqueued"], again.json["existing"], sorted(again.json["finished"])) == ([], [], expected)


def test_two_runners_of_one_slot_at_once_run_it_once(backends):
    entered, release = threading.Event(), threading.Event()

    def hold(context):
        entered.set()
        assert release.wait(10)
        return {"held": True}

    job, slot = Job("held", Every(1), hold, "Waits to be released"), utc(2026, 12, 4, 10, 0)
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        return run_job(job, slot, queue=HeldQueue())

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run) for _ in range(2)]
        assert entered.wait(10)
        time.sleep(0.2)  # the second runner has met the lock by now; it must not be waiting on it
        finished = [future for future in futures if future.done()]
        assert [future.result().claim for future in finished] == [Claim.BUSY]
        release.set()
        results = sorted((future.result() for future in futures), key=lambda result: result.claim)

    assert [(r.claim, r.status) for r in results] == [(Claim.BUSY, JobRunStatus.RUNNING),
                                                      (Claim.RAN, JobRunStatus.SUCCEEDED)]  # fmt: skip
    # 1, or 2 when the second runner came between the first one's claim and its lock and took the run over.
    ran = results[1]
    assert ran.attempts in (1, 2)
    later = run_job(job, slot, queue=HeldQueue())
    assert (later.claim, later.status, later.attempts, later.outcome) == (Claim.DONE, JobRunStatus.SUCCEEDED,
                                                                         ran.attempts, {"held": True})  # fmt: skip


def test_a_tick_retried_after_its_worker_was_killed_mid_job_runs_the_job_once_to_success(backends):
    slot, held = utc(2026, 12, 4, 11, 5), HeldQueue()
    assert tick(slot, registry=TEST_JOBS, queue=held).enqueued == [job_task_id("slow", slot)]
    [task] = held.created
    # The first delivery runs in a worker process of its own, which is killed once the job has started.
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.scheduler_targets",
         json.dumps({"task_id": task.task_id, "body": task.body.decode(), "retry_count": 0})],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert worker.stdout.readline().strip() == "started"
    finally:
        worker.kill()
        worker.wait(10)
    [killed] = runs()
    assert (killed.status, killed.attempts, killed.finished_at) == (JobRunStatus.RUNNING, 1, None)

    # The retried tick finds the task made already; the queue retries the task until its answer is 2xx (503 while
    # Postgres has not yet noticed that the killed worker's connection is gone).
    assert tick(slot, registry=TEST_JOBS, queue=held).existing == [task.task_id]
    answers = []
    deadline = time.monotonic() + 10
    while (not answers or answers[-1] == 503) and time.monotonic() < deadline:
        answers.append(deliver(task.task_id, task.body, retry_count=len(answers) + 1).status_code)
    assert answers[-1] == 200 and set(answers[:-1]) <= {503}

    [run] = runs()
    assert (run.status, run.attempts, run.outcome, run.error) == (JobRunStatus.SUCCEEDED, 2,
                                                                  {"finished_on_attempt": 2}, None)  # fmt: skip
    assert deliver(task.task_id, task.body, retry_count=9).status_code == 200  # one more delivery: nothing runs
    assert tick(slot, registry=TEST_JOBS, queue=held).finished == [task.task_id]
    assert len(held.created) == 1 and runs()[0].attempts == 2


def test_missed_ticks_catch_each_job_up_once_with_its_latest_slot(backends):
    held = HeldQueue()

    def ticked(hour: int, minute: int) -> list[str]:
        return tick(utc(2026, 12, 4, hour, minute), registry=JOBS, queue=held).enqueued

    assert ticked(6, 0) == [job_task_id("sweep", utc(2026, 12, 4, 6, 0)),
                            job_task_id("housekeeping", utc(2026, 12, 3, 6, 30))]  # fmt: skip
    # Down from 06:01 to 06:40: the sweep runs for 06:41 alone, housekeeping once for the 06:30 it missed.
    assert ticked(6, 41) == [job_task_id("sweep", utc(2026, 12, 4, 6, 41)),
                             job_task_id("housekeeping", utc(2026, 12, 4, 6, 30))]  # fmt: skip
    assert ticked(6, 42) == [job_task_id("sweep", utc(2026, 12, 4, 6, 42))]
    assert [task.payload for task in held.created if "housekeeping" in task.task_id] == [
        job_payload("housekeeping", utc(2026, 12, 3, 6, 30)),
        job_payload("housekeeping", utc(2026, 12, 4, 6, 30)),
    ]


def test_local_times_are_read_in_the_clinics_zone(backends):
    with session_scope() as session:
        get_clinic_settings(session)  # the row, with its defaults
        session.execute(update(ClinicSettings).values(timezone="America/Manaus"))
    daily = JobRegistry([Job("daily", Daily("03:30"), dict, "At 03:30 on the clinic's clock")])
    held = HeldQueue()
    assert tick(utc(2026, 12, 4, 7, 29), registry=daily, queue=held).enqueued == ["job-daily-202612030730"]
    assert tick(utc(2026, 12, 4, 7, 30), registry=daily, queue=held).enqueued == ["job-daily-202612040730"]


def test_the_tick_is_authenticated_like_every_task_target(scheduler, settings_env):
    settings_env(TASK_AUTH_SECRET="s3cret-for-the-tick")
    at = utc(2026, 12, 4, 12, 0).isoformat()

    refused = scheduler.post("/tasks/scheduler_tick", headers={"X-CloudScheduler-ScheduleTime": at})
    wrong = scheduler.post("/tasks/scheduler_tick", headers={"X-Clinicbot-Task-Secret": "guess"})
    bad_time = scheduler.post("/tasks/scheduler_tick", headers={
        "X-Clinicbot-Task-Secret": "s3cret-for-the-tick", "X-CloudScheduler-ScheduleTime": "yesterday"})  # fmt: skip
    run_refused = scheduler.post("/tasks/scheduler_tick", headers={"X-CloudTasks-TaskName": "job-sweep-x"}, json={})

    assert [r.status_code for r in (refused, wrong, bad_time, run_refused)] == [401, 401, 400, 401]
    assert job_task_ids() == [] and runs() == []


def test_clinicbot_tick_runs_the_due_jobs_here_or_the_one_named(backends, capsys):
    assert main(["tick"]) == 0
    first = capsys.readouterr().out
    assert main(["tick"]) == 0
    second = capsys.readouterr().out
    assert main(["tick", "--job", "housekeeping"]) == 0
    named = capsys.readouterr().out

    assert "housekeeping" in first and "sweep" in first and first.count("SUCCEEDED in") == 2
    assert "housekeeping" not in second  # its slot ran; the sweep only if the minute turned meanwhile
    assert named.startswith("housekeeping ") and "SUCCEEDED in" in named and '"refresh_tokens": 0' in named
    assert sorted(r.job for r in runs()).count("housekeeping") == 2  # the due 03:30 slot and this minute's
    assert main(["tick", "--job", "nothing"]) == 2
    assert "the jobs are sweep, housekeeping" in capsys.readouterr().err


def test_a_failed_job_is_recorded_and_its_task_retried(backends):
    def fail(context):
        raise RuntimeError("the backup bucket is unreachable")

    failing = Job("failing", Every(1), fail, "Always fails")
    result = run_job(failing, utc(2026, 12, 4, 13, 0), queue=HeldQueue())
    retried = run_job(failing, utc(2026, 12, 4, 13, 0), queue=HeldQueue())

    expected = (Claim.RAN, JobRunStatus.FAILED, "RuntimeError: the backup bucket is unreachable")
    assert (result.claim, result.status, result.error) == expected
    [run] = runs()
    assert (run.status, run.attempts, retried.attempts) == (JobRunStatus.FAILED, 2, 2)
    assert run.finished_at >= run.started_at and run.duration_ms >= 0


def test_a_job_only_for_open_hours_is_skipped_when_the_clinic_is_closed(backends):
    job = Job("open_only", Every(1), lambda context: {"sent": 1}, "Only in business hours", only_when_open=True)
    sunday_night = utc(2026, 12, 7, 2, 0)  # Sunday 23:00 in São Paulo
    tuesday_morning = utc(2026, 12, 8, 13, 0)  # Tuesday 10:00 in São Paulo
    closed = run_job(job, sunday_night, queue=HeldQueue())
    opened = run_job(job, tuesday_morning, queue=HeldQueue())
    assert (closed.status, closed.outcome) == (JobRunStatus.SKIPPED, {"skipped": "the clinic is closed at this slot"})
    assert (opened.status, opened.outcome) == (JobRunStatus.SUCCEEDED, {"sent": 1})
    assert timedelta(0) <= opened.slot - closed.slot

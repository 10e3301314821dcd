"""The housekeeping job deletes exactly what is past its expiry or retention, and what Chroma no longer needs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shared.config import get_settings
from shared.db import session_scope
from shared.jobs.catalogue import JOBS
from shared.jobs.models import JobRun, JobRunStatus
from shared.jobs.runs import run_job
from shared.knowledge.chroma import chroma_client, open_collection
from shared.knowledge.schemas import load_knowledge_base
from shared.knowledge.store import import_knowledge_base
from shared.migrate import PROJECT_ROOT
from shared.queue import get_task_queue
from shared.tasks.models import FailedTask, TaskRecord, TaskStatus
from shared.users.models import RefreshToken, RevokedToken

DAY = timedelta(days=1)


@pytest.fixture
def chroma(backends, settings_env, tmp_path):
    settings_env(CHROMA_PERSIST_DIR=str(tmp_path / "chroma"), EMBEDDING_PROVIDER="e5",
                 TASK_RECORDS_RETENTION_DAYS="14", JOB_RUNS_RETENTION_DAYS="30")  # fmt: skip
    active = import_knowledge_base(load_knowledge_base(PROJECT_ROOT / "tests/data/other_clinic_kb.yaml")).collection
    settings = get_settings()
    # What imports killed half-way leave, beside the conversation memory (not a knowledge base).
    for name in ("kb-previous-e5", "kb-halfway-e5", settings.chroma_collection_name):
        open_collection(settings, name, create=True)
    return active


def collections() -> set[str]:
    return {collection.name for collection in chroma_client(get_settings()).list_collections()}


def rows(key) -> list:
    with session_scope() as session:
        return sorted(session.scalars(select(key)), key=str)


def add_rows(user_id: uuid.UUID, now: datetime) -> dict[str, object]:
    names = {"old_token": uuid.uuid4(), "live_token": uuid.uuid4(), "old_revoked": uuid.uuid4(),
             "live_revoked": uuid.uuid4()}  # fmt: skip
    with session_scope() as session:
        family = uuid.uuid4()
        session.add_all([
            RefreshToken(jti=names["old_token"], family_id=family, user_id=user_id, expires_at=now - DAY),
            RefreshToken(jti=names["live_token"], family_id=family, user_id=user_id, expires_at=now + DAY,
                         revoked_at=now),
            RevokedToken(jti=names["old_revoked"], user_id=user_id, token_type="access", reason="logout",
                         expires_at=now - timedelta(minutes=1)),
            RevokedToken(jti=names["live_revoked"], user_id=user_id, token_type="access", reason="logout",
                         expires_at=now + timedelta(minutes=10)),
        ])  # fmt: skip
        for task_id, days_ago, status in (("old-done", 15, TaskStatus.COMPLETED), ("old-failed", 40, TaskStatus.FAILED),
                                          ("recent", 13, TaskStatus.COMPLETED)):  # fmt: skip
            session.add(TaskRecord(task_id=task_id, queue="messages", target="message_processor", payload={},
                                   status=status, updated_at=now - days_ago * DAY))  # fmt: skip
        session.add(FailedTask(task_id="old-failed", queue="messages", target="message_processor", payload={},
                               attempts=5, last_error="RuntimeError"))  # fmt: skip
        for job, days_ago, status in (
            ("sweep", 33, JobRunStatus.SUCCEEDED),
            ("sweep", 32, JobRunStatus.FAILED),
            ("sweep", 31, JobRunStatus.SUCCEEDED),
            ("backups", 40, JobRunStatus.RUNNING),
            ("backups", 35, JobRunStatus.SKIPPED),
            ("sweep", 29, JobRunStatus.SUCCEEDED),
        ):
            session.add(
                JobRun(
                    job=job,
                    slot=now - days_ago * DAY,
                    status=status,
                    attempts=1,
                    started_at=now - days_ago * DAY,
                    finished_at=now - days_ago * DAY,
                )
            )
        # The last housekeeping found kb-previous-e5 active: it is the version before the one active now.
        session.add(
            JobRun(
                job="housekeeping",
                slot=now - 2 * DAY,
                status=JobRunStatus.SUCCEEDED,
                attempts=1,
                started_at=now - 2 * DAY,
                finished_at=now - 2 * DAY,
                outcome={"knowledge": {"active": "kb-previous-e5", "previous": None}},
            )
        )
    return names


def test_housekeeping_deletes_exactly_what_is_past_retention(chroma, make_user):
    now = datetime.now(UTC)  # read when the test runs: under xdist that may be minutes after the import
    names = add_rows(make_user().id, now)
    slot = now.replace(second=0, microsecond=0)

    result = run_job(JOBS.get("housekeeping"), slot, queue=get_task_queue())

    assert result.status is JobRunStatus.SUCCEEDED, result.error
    assert result.outcome == {"refresh_tokens": 1, "revoked_tokens": 1, "task_records": 1, "job_runs": 3,
                              "knowledge": {"active": chroma, "previous": "kb-previous-e5", "deleted": 1}}  # fmt: skip
    assert rows(RefreshToken.jti) == [names["live_token"]]
    assert rows(RevokedToken.jti) == [names["live_revoked"]]
    assert rows(TaskRecord.task_id) == ["old-failed", "recent"]
    with session_scope() as session:
        left = sorted((run.job, round((now - run.slot) / DAY), run.status) for run in session.scalars(select(JobRun)))
    # Sweep's runs past 30 days go; backups' latest stays however old, and so does its RUNNING one (an attempt
    # under way, or one a killed worker left, is not finished).
    assert left == [("backups", 35, JobRunStatus.SKIPPED), ("backups", 40, JobRunStatus.RUNNING),
                    ("housekeeping", 0, JobRunStatus.SUCCEEDED), ("housekeeping", 2, JobRunStatus.SUCCEEDED),
                    ("sweep", 29, JobRunStatus.SUCCEEDED)]  # fmt: skip
    assert collections() == {chroma, "kb-previous-e5", get_settings().chroma_collection_name}

    # The next day: nothing more is due, and the previous version is still the one before the active one.
    again = run_job(JOBS.get("housekeeping"), slot + DAY, queue=get_task_queue())
    assert again.outcome == {"refresh_tokens": 0, "revoked_tokens": 0, "task_records": 0, "job_runs": 0,
                             "knowledge": {"active": chroma, "previous": "kb-previous-e5", "deleted": 0}}  # fmt: skip


def test_without_a_knowledge_base_the_chroma_step_says_so(backends):
    now = datetime.now(UTC)
    result = run_job(JOBS.get("housekeeping"), now.replace(second=0, microsecond=0), queue=get_task_queue())
    assert result.outcome["knowledge"] == {"skipped": "no knowledge base was imported into CHROMA_PERSIST_DIR"}

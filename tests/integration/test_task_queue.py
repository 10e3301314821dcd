"""The task queue against real Postgres: our records, de-duplication, handle_task's answers, admin use cases."""

import json
import uuid
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import select

from shared.config import get_settings
from shared.db import session_scope
from shared.queue import RecordingTaskQueue, Task, get_task_queue, task_id_for
from shared.tasks.in_process import InProcessQueue
from shared.tasks.models import FailedTask, TaskRecord, TaskStatus
from shared.tasks.service import clear_failed, list_failed, queue_stats, retry_failed

TARGETS_FILE = Path(__file__).parents[1] / "unit/tasks/task_targets.py"
SECRET = "s3cret-for-tasks"


class HeldQueue(RecordingTaskQueue):
    """Keeps the tasks it is given instead of running them."""

    def __init__(self, names_are_unique: bool = False) -> None:
        self.names_are_unique = names_are_unique
        self.created: list[Task] = []

    def create_task(self, task: Task) -> bool:
        self.created.append(task)
        return True


@pytest.fixture
def task_settings(backends, monkeypatch):
    monkeypatch.setenv("TASK_AUTH_SECRET", SECRET)
    monkeypatch.setenv("TASK_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def inline(task_settings) -> InProcessQueue:
    return InProcessQueue(inline=True, targets={"ledger_target": TARGETS_FILE}, settings=task_settings)


@pytest.fixture(scope="module")
def target():
    return functions_framework.create_app("ledger_target", str(TARGETS_FILE)).test_client()


def delivery_headers(task_id: str = "task-1", retry_count: int = 0, secret: str | None = SECRET) -> dict[str, str]:
    headers = {"X-CloudTasks-TaskName": task_id, "X-CloudTasks-QueueName": "clinicbot-tasks-messages",
               "X-CloudTasks-TaskRetryCount": str(retry_count)}  # fmt: skip
    return headers | ({"X-Clinicbot-Task-Secret": secret} if secret is not None else {})


def records() -> list[TaskRecord]:
    with session_scope() as session:
        return list(session.scalars(select(TaskRecord).order_by(TaskRecord.created_at)))


def failed() -> list[FailedTask]:
    with session_scope() as session:
        return list(session.scalars(select(FailedTask)))


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_enqueue_writes_one_pending_record(backends):
    queue = HeldQueue()

    assert queue.enqueue("messages", "message_processor", {"n": 1}, task_id="turn-false_55@c.us_AB") is True

    [record] = records()
    assert (record.task_id, record.queue, record.target, record.payload) == (
        task_id_for("turn-false_55@c.us_AB"), "messages", "message_processor", {"n": 1})  # fmt: skip
    assert (record.status, record.attempts, record.completed_at) == (TaskStatus.PENDING, 0, None)
    assert [task.task_id for task in queue.created] == [record.task_id]


def test_a_duplicate_task_id_is_not_created_again(backends):
    queue = HeldQueue()

    first = queue.enqueue("messages", "message_processor", {"n": 1}, task_id="turn-1")
    second = queue.enqueue("messages", "message_processor", {"n": 2}, task_id="turn-1")

    assert (first, second) == (True, False)
    assert len(records()) == 1 and records()[0].payload == {"n": 1} and len(queue.created) == 1


def test_a_queue_with_unique_names_is_asked_again_only_while_the_record_is_pending(backends):
    queue = HeldQueue(names_are_unique=True)
    queue.enqueue("messages", "message_processor", {}, task_id="turn-1")
    queue.enqueue("messages", "message_processor", {}, task_id="turn-1")  # an enqueue that died half-way, retried
    with session_scope() as session:
        session.scalars(select(TaskRecord)).one().status = TaskStatus.COMPLETED

    assert queue.enqueue("messages", "message_processor", {}, task_id="turn-1") is False
    assert len(queue.created) == 2


def test_a_payload_that_json_cannot_carry_writes_nothing(backends):
    with pytest.raises(TypeError):
        HeldQueue().enqueue("messages", "message_processor", {"at": object()})

    assert records() == []


def test_an_inline_task_runs_through_handle_task_and_is_completed(inline, tmp_path):
    log = tmp_path / "runs.jsonl"

    assert inline.enqueue("messages", "ledger_target", {"log": str(log), "text": "olá"}, task_id="turn-1") is True

    [record] = records()
    assert (record.status, record.attempts, record.last_error) == (TaskStatus.COMPLETED, 1, None)
    assert record.completed_at is not None
    assert lines(log) == [{"log": str(log), "text": "olá"}]


def test_a_task_failing_every_attempt_lands_in_failed_tasks(inline, tmp_path):
    log = tmp_path / "runs.jsonl"

    inline.enqueue("messages", "ledger_target", {"log": str(log), "behave": "fail"}, task_id="turn-1")

    [record], [dead] = records(), failed()
    assert (record.status, record.attempts, record.last_error) == (TaskStatus.FAILED, 3, "RuntimeError: asked to fail")
    assert (dead.task_id, dead.queue, dead.target, dead.attempts) == ("turn-1", "messages", "ledger_target", 3)
    assert dead.payload == {"log": str(log), "behave": "fail"} and dead.last_error == "RuntimeError: asked to fail"
    assert len(lines(log)) == 3


def test_a_failure_before_the_last_attempt_answers_500_and_waits_for_the_retry(task_settings, target):
    response = target.post("/tasks/ledger_target", json={"behave": "fail"}, headers=delivery_headers(retry_count=0))

    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    [record] = records()
    assert (record.status, record.attempts, record.queue) == (TaskStatus.PENDING, 1, "messages")
    assert failed() == []


def test_retry_later_answers_503_with_retry_after(task_settings, target):
    response = target.post("/tasks/ledger_target", json={"behave": "retry_later"}, headers=delivery_headers())

    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert records()[0].last_error == "RetryLater: the clinic's calendar is busy"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_discarded_and_kept_for_an_admin(task_settings, target, body):
    response = target.post("/tasks/ledger_target", data=body, headers=delivery_headers(),
                           content_type="application/json")  # fmt: skip

    assert response.status_code == 200 and response.json["status"] == "discarded"
    [dead] = failed()
    assert dead.payload == {"unparsed_body": body.decode()} and dead.last_error.startswith("discarded")
    assert records()[0].status is TaskStatus.FAILED


def test_a_handler_may_discard_a_task_that_can_never_succeed(task_settings, target):
    response = target.post("/tasks/ledger_target", json={"behave": "discard"}, headers=delivery_headers())

    assert response.json == {"status": "discarded", "reason": "the message is gone"}
    assert failed()[0].last_error == "discarded: the message is gone"


@pytest.mark.parametrize("secret", [None, "wrong", ""])
def test_a_caller_without_the_secret_is_refused_and_nothing_runs(task_settings, target, tmp_path, secret):
    log = tmp_path / "runs.jsonl"

    response = target.post("/tasks/ledger_target", json={"log": str(log)}, headers=delivery_headers(secret=secret))

    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    assert not log.exists() and records() == []


def test_a_request_that_is_not_a_task_delivery_is_refused(task_settings, target):
    no_name = {key: value for key, value in delivery_headers().items() if key != "X-CloudTasks-TaskName"}

    assert target.post("/tasks/ledger_target", json={}, headers=no_name).status_code == 400
    assert target.post("/elsewhere", json={}, headers=delivery_headers()).status_code == 404


def test_stats_retry_and_clear_of_failed_tasks(inline):
    inline.enqueue("messages", "ledger_target", {"n": 1}, task_id="ok-1")
    inline.enqueue("messages", "ledger_target", {"behave": "fail"}, task_id="bad-1")
    inline.enqueue("media", "ledger_target", {"behave": "fail"}, task_id="bad-2")
    HeldQueue().enqueue("messages", "ledger_target", {}, task_id="waiting-1")
    with session_scope() as session:
        stats = queue_stats(session)
        [job, _] = sorted(list_failed(session), key=lambda row: row.task_id)
    held = HeldQueue()

    with session_scope() as session:
        retried = retry_failed(session, [job.id, uuid.uuid4()], queue=held)
    with session_scope() as session:
        after_retry = queue_stats(session)
        cleared = clear_failed(session)

    assert stats == {"pending": 1, "processing": 0, "failed": 2, "completed": 1}
    assert [r.job_id for r in retried] == [job.id] and retried[0].task_id.startswith("bad-1-retry-")
    assert [(t.task_id, t.queue, t.target, t.payload) for t in held.created] == [
        (retried[0].task_id, "messages", "ledger_target", {"behave": "fail"})]  # fmt: skip
    assert after_retry == {"pending": 2, "processing": 0, "failed": 1, "completed": 1}
    assert cleared == 1 and failed() == []


def test_the_configured_queue_is_built_once(task_settings):
    get_task_queue.cache_clear()
    try:
        assert isinstance(get_task_queue(), InProcessQueue) and get_task_queue() is get_task_queue()
    finally:
        get_task_queue.cache_clear()

"""The in-process queue calls a real functions-framework target as Cloud Tasks would, and retries."""

import json
import time
from pathlib import Path

import pytest

from shared.config import Settings
from shared.queue import Task
from shared.tasks.in_process import InProcessQueue

TARGETS = {"recorder": Path(__file__).with_name("task_targets.py")}


def settings(**values) -> Settings:
    values = {"environment": "local", "task_auth_secret": "s3cret-for-tasks", "task_max_attempts": 3} | values
    return Settings(database_url="postgresql+pg8000://u@127.0.0.1/x", redis_url="redis://127.0.0.1/0", **values)


def task(log: Path, **payload) -> Task:
    return Task.build("messages", "recorder", {"log": str(log), **payload}, task_id="turn-false_55@c.us_ABC")


def deliveries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def background():
    queues = []

    def make(**options) -> InProcessQueue:
        options.setdefault("backoff", (0.01, 0.05))
        queue = InProcessQueue(targets=TARGETS, settings=options.pop("settings", settings()), **options)
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.close()


def test_inline_delivery_posts_the_json_with_the_cloud_tasks_headers(tmp_path):
    log = tmp_path / "deliveries.jsonl"
    sent = task(log, text="olá")

    created = InProcessQueue(inline=True, targets=TARGETS, settings=settings()).create_task(sent)

    [delivery] = deliveries(log)
    assert created is True
    assert delivery["path"] == "/tasks/recorder"
    assert delivery["payload"] == {"log": str(log), "text": "olá"}
    assert {key: delivery["headers"].get(key) for key in (
        "Content-Type", "X-Cloudtasks-Queuename", "X-Cloudtasks-Taskname", "X-Cloudtasks-Taskretrycount",
        "X-Cloudtasks-Taskexecutioncount", "X-Clinicbot-Task-Secret")} == {
        "Content-Type": "application/json", "X-Cloudtasks-Queuename": "clinicbot-tasks-messages",
        "X-Cloudtasks-Taskname": sent.task_id, "X-Cloudtasks-Taskretrycount": "0",
        "X-Cloudtasks-Taskexecutioncount": "0", "X-Clinicbot-Task-Secret": "s3cret-for-tasks"}  # fmt: skip


def test_inline_retries_a_failing_target_until_it_succeeds(tmp_path):
    log = tmp_path / "deliveries.jsonl"

    InProcessQueue(inline=True, targets=TARGETS, settings=settings()).create_task(task(log, succeed_on_retry=2))

    assert [d["headers"]["X-Cloudtasks-Taskretrycount"] for d in deliveries(log)] == ["0", "1", "2"]


def test_inline_gives_up_after_the_configured_attempts(tmp_path):
    log = tmp_path / "deliveries.jsonl"
    queue = InProcessQueue(inline=True, targets=TARGETS, settings=settings(task_max_attempts=2))

    queue.create_task(task(log, succeed_on_retry=99))

    assert len(deliveries(log)) == 2


def test_no_secret_header_when_no_secret_is_configured(tmp_path):
    log = tmp_path / "deliveries.jsonl"

    InProcessQueue(inline=True, targets=TARGETS, settings=settings(task_auth_secret=None)).create_task(task(log))

    assert "X-Clinicbot-Task-Secret" not in deliveries(log)[0]["headers"]


def test_a_target_that_cannot_load_is_a_failed_attempt_not_a_crash(tmp_path):
    queue = InProcessQueue(inline=True, targets={"recorder": tmp_path / "missing.py"}, settings=settings())

    assert queue.deliver(task(tmp_path / "log"), 0).status == 500


def test_the_background_worker_retries_with_backoff(tmp_path, background):
    log = tmp_path / "deliveries.jsonl"
    queue = background()

    assert queue.create_task(task(log, succeed_on_retry=2)) is True
    assert queue.join(timeout=10)

    assert [d["headers"]["X-Cloudtasks-Taskretrycount"] for d in deliveries(log)] == ["0", "1", "2"]


def test_the_background_worker_stops_after_the_configured_attempts(tmp_path, background):
    log = tmp_path / "deliveries.jsonl"
    queue = background(settings=settings(task_max_attempts=4))

    queue.create_task(task(log, succeed_on_retry=99))
    assert queue.join(timeout=10)

    assert len(deliveries(log)) == 4


def test_the_background_worker_waits_for_the_delay_and_for_retry_after(tmp_path, background):
    log = tmp_path / "deliveries.jsonl"
    queue = background(backoff=(0.01, 5.0))  # Retry-After is honoured up to the maximum backoff
    started = time.monotonic()

    queue.create_task(Task.build("messages", "recorder", {"log": str(log), "succeed_on_retry": 1,
                                                          "retry_after": 0.4}, delay=0.3))  # fmt: skip
    time.sleep(0.15)
    early = deliveries(log)
    assert queue.join(timeout=10)

    assert early == [] and len(deliveries(log)) == 2
    assert time.monotonic() - started >= 0.7


def test_a_closed_queue_refuses_new_tasks(tmp_path, background):
    queue = background()
    queue.create_task(task(tmp_path / "log"))
    queue.join(timeout=10)
    queue.close()

    with pytest.raises(RuntimeError, match="closed"):
        queue.create_task(task(tmp_path / "log"))

"""Task ids, the task's wire form and where it goes."""

import re

import pytest

from shared.config import Settings
from shared.queue import MAX_TASK_ID_LENGTH, Task, cloud_queue_name, retry_task_id, target_url, task_id_for

VALID = re.compile(r"[A-Za-z0-9_-]{1,500}")
WAHA_ID = "false_5511999999999@c.us_3EB0C767D26A1D2A7C4C"


def settings(**values) -> Settings:
    return Settings(database_url="postgresql+pg8000://u@127.0.0.1/x", redis_url="redis://127.0.0.1/0", **values)


def test_a_valid_id_is_kept_as_it_is():
    assert task_id_for("turn-3EB0C767D26A1D2A7C4C") == "turn-3EB0C767D26A1D2A7C4C"
    assert task_id_for("a" * MAX_TASK_ID_LENGTH) == "a" * MAX_TASK_ID_LENGTH


def test_a_waha_message_id_becomes_a_readable_valid_name_and_always_the_same_one():
    task_id = task_id_for(f"turn-{WAHA_ID}")

    assert VALID.fullmatch(task_id)
    assert task_id.startswith("turn-false_5511999999999-c-us_3EB0C767D26A1D2A7C4C-")
    assert task_id_for(f"turn-{WAHA_ID}") == task_id


def test_ids_that_differ_only_in_unsafe_characters_stay_apart():
    assert len({task_id_for("a.b"), task_id_for("a@b"), task_id_for("a-b"), task_id_for("a b")}) == 4


def test_long_and_unreadable_ids_fit_cloud_tasks_limits():
    assert VALID.fullmatch(task_id_for("x" * 5000)) and len(task_id_for("x" * 5000)) < 300
    assert VALID.fullmatch(task_id_for("@@@..."))
    assert VALID.fullmatch(task_id_for("ação-ñ"))


def test_a_retry_gets_a_fresh_id_that_does_not_grow_with_each_retry():
    first = retry_task_id("turn-abc")
    second = retry_task_id(first)

    assert first.startswith("turn-abc-retry-") and second.startswith("turn-abc-retry-")
    assert first != second and len(first) == len(second)
    assert retry_task_id("turn-abc") != first


def test_a_task_carries_its_payload_as_the_target_will_see_it():
    task = Task.build("messages", "message_processor", {"ids": (1, 2), "text": "olá"}, task_id=WAHA_ID, delay=5)

    assert task.payload == {"ids": [1, 2], "text": "olá"}
    assert task.body == '{"ids":[1,2],"text":"olá"}'.encode()
    assert task.task_id == task_id_for(WAHA_ID) and task.delay == 5


def test_a_task_without_an_id_gets_a_unique_one_named_after_its_target():
    first = Task.build("media", "message_processor", {})
    second = Task.build("media", "message_processor", {})

    assert first.task_id.startswith("message_processor-") and first.task_id != second.task_id


@pytest.mark.parametrize(
    ("payload", "error"),
    [({"when": object()}, TypeError), ({"score": float("nan")}, ValueError), (["not", "a", "dict"], TypeError)],
)
def test_a_payload_that_json_cannot_carry_fails_at_once(payload, error):
    with pytest.raises(error):
        Task.build("messages", "message_processor", payload)


@pytest.mark.parametrize(
    ("queue", "target", "delay"),
    [("Messages", "message_processor", None), ("messages", "../etc", None), ("messages", "x", -1.0),
     ("messages", "x", 31 * 24 * 3600.0), ("", "x", None)],
)  # fmt: skip
def test_invalid_queue_target_or_delay_is_refused(queue, target, delay):
    with pytest.raises(ValueError):
        Task.build(queue, target, {}, delay=delay)


def test_the_target_url_and_the_real_queue_name():
    configured = settings(task_target_base_url="https://tasks.example.com/", task_queue_name="clinicbot-tasks")

    assert target_url(configured, "message_processor") == "https://tasks.example.com/tasks/message_processor"
    assert cloud_queue_name(configured, "messages") == "clinicbot-tasks-messages"

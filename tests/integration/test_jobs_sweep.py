"""The sweep job: unprocessed messages get one turn, failed tasks whose cause is gone run again, within bounds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import session_scope
from shared.health import CheckOut, HealthOut
from shared.jobs.catalogue import JOBS
from shared.jobs.reruns import rerun_failed_tasks
from shared.jobs.runs import run_job
from shared.queue import RecordingTaskQueue, Task
from shared.tasks.models import FailedTask

UP, DOWN = CheckOut(ok=True), CheckOut(ok=False, error="ConnectionError: refused")
REDIS_ERROR = "RetryLater: redis unavailable: ConnectionError"


class HeldQueue(RecordingTaskQueue):
    """Our queue's recording side, keeping each task it would create instead of running it."""

    names_are_unique = False

    def __init__(self) -> None:
        self.created: list[Task] = []
        self._lock = threading.Lock()

    def create_task(self, task: Task) -> bool:
        with self._lock:
            self.created.append(task)
        return True


def health(redis: CheckOut = UP, waha: CheckOut = DOWN) -> HealthOut:
    return HealthOut(status="degraded", db=UP, redis=redis, waha=waha)


def failed_task(task_id: str, error: str, minutes_ago: int = 0) -> None:
    with session_scope() as session:
        session.add(FailedTask(task_id=task_id, queue="messages", target="message_processor", attempts=5,
                               payload={"kind": "process_message", "conversation_id": task_id}, last_error=error,
                               failed_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)))  # fmt: skip


def still_failed() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FailedTask.task_id)))


def test_the_sweep_job_gives_an_unprocessed_message_one_turn(backends, settings_env):
    settings_env(SWEEP_AFTER_SECONDS="3600")  # the turn's id holds the hour it was swept in
    with session_scope() as session:
        conversation = Conversation(chat_id="5511977776666@c.us", phone_number="5511977776666")
        session.add(conversation)
        session.flush()
        two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
        for body in ("oi", "quanto custa?"):
            session.add(
                ConversationMessage(
                    conversation_id=conversation.id,
                    body=body,
                    created_at=two_hours_ago,
                    direction=MessageDirection.INBOUND,
                    sender_kind=SenderKind.PATIENT,
                )
            )
    held, sweep = HeldQueue(), JOBS.get("sweep")

    first = run_job(sweep, datetime(2026, 12, 4, 9, 0, tzinfo=UTC), queue=held)
    second = run_job(sweep, datetime(2026, 12, 4, 9, 1, tzinfo=UTC), queue=held)  # the turn has not run yet

    assert first.outcome["unprocessed"] == {"conversations": 1, "messages": 2, "enqueued": 1}
    assert second.outcome["unprocessed"] == {"conversations": 1, "messages": 2, "enqueued": 0}
    assert [task.payload for task in held.created] == [{"kind": "process_message",
                                                        "conversation_id": str(conversation.id)}]  # fmt: skip
    assert first.outcome["failed_tasks"] == {"rerun": 0, "waiting": 0, "left_for_admin": 0}
    assert "quanto" not in str(first.outcome) and "5511977776666" not in str(first.outcome)


def test_failed_tasks_run_again_once_their_cause_is_gone(backends):
    failed_task("turn-a", REDIS_ERROR)
    failed_task("turn-b", "RetryLater: WahaError: 502 from WAHA")
    failed_task("turn-c", "RuntimeError: something else", minutes_ago=10)  # an unknown cause, long enough ago
    failed_task("turn-d", "RuntimeError: something else")  # the same, but it failed just now
    failed_task("turn-e", "discarded: payload has no valid 'conversation_id'")
    failed_task("turn-f-rerun-3", REDIS_ERROR)  # re-run three times already
    held = HeldQueue()

    # Redis down: nothing runs (an unknown cause waits for Redis too: every turn takes its lock there).
    while_down = rerun_failed_tasks(held, limit=100, max_reruns=3, min_age_seconds=120, health=health(redis=DOWN))
    assert while_down.as_outcome() == {"rerun": 0, "waiting": 4, "left_for_admin": 2} and held.created == []

    back = rerun_failed_tasks(held, limit=100, max_reruns=3, min_age_seconds=120, health=health())
    assert back.as_outcome() == {"rerun": 2, "waiting": 2, "left_for_admin": 2}
    assert [task.task_id for task in held.created] == ["turn-c-rerun-1", "turn-a-rerun-1"]  # the oldest first
    assert held.created[1].payload == {"kind": "process_message", "conversation_id": "turn-a"}
    assert still_failed() == ["turn-b", "turn-d", "turn-e", "turn-f-rerun-3"]
    # Asked for real: Redis answers, the tests' WAHA does not, so the WAHA failure keeps waiting.
    asked = rerun_failed_tasks(held, limit=100, max_reruns=3, min_age_seconds=120)
    assert asked.as_outcome() == {"rerun": 0, "waiting": 2, "left_for_admin": 2} and len(held.created) == 2


def test_a_rerun_that_fails_again_counts_on_and_stops_at_the_maximum(backends):
    held = HeldQueue()
    failed_task("fetch-x", REDIS_ERROR)
    for expected in ("fetch-x-rerun-1", "fetch-x-rerun-2"):
        assert rerun_failed_tasks(held, limit=10, max_reruns=2, min_age_seconds=0, health=health()).rerun == 1
        assert held.created[-1].task_id == expected
        failed_task(expected, REDIS_ERROR)  # it failed again
    assert rerun_failed_tasks(held, limit=10, max_reruns=2, min_age_seconds=0, health=health()).as_outcome() == {
        "rerun": 0, "waiting": 0, "left_for_admin": 1}  # fmt: skip
    assert still_failed() == ["fetch-x-rerun-2"]


def test_a_run_reruns_at_most_its_bound_and_two_at_once_rerun_each_task_once(backends):
    for name in ("t1", "t2", "t3"):
        failed_task(name, REDIS_ERROR)
    held, barrier = HeldQueue(), threading.Barrier(2)

    def sweep():
        barrier.wait()
        return rerun_failed_tasks(held, limit=2, max_reruns=3, min_age_seconds=0, health=health())

    with ThreadPoolExecutor(2) as pool:
        results = [future.result() for future in [pool.submit(sweep) for _ in range(2)]]

    # Each takes what the other has not locked (or what is left): never a task twice, never more than its bound.
    assert sum(result.rerun for result in results) == 3 and max(result.rerun for result in results) == 2
    assert sorted(task.task_id for task in held.created) == ["t1-rerun-1", "t2-rerun-1", "t3-rerun-1"]
    assert still_failed() == []

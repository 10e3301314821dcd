"""Task queue administration: ADMIN only, counts and failed tasks from real task records, retries that really run.

Failed tasks come from the message processor itself: the inline in-process queue delivers a task of a kind it
does not know, the processor discards it, and `handle_task` files it in failed_tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from shared.audit.models import AuditLog
from shared.db import session_scope
from shared.queue import Task, get_task_queue
from shared.tasks.in_process import InProcessQueue
from shared.tasks.models import FailedTask, TaskRecord, TaskStatus
from shared.tasks.records import Delivery, complete_attempt, record_enqueued, start_attempt
from shared.users.models import Role
from tests.conftest import bearer

QUEUE = "/api/v1/queue"
UNKNOWN_KIND = {"kind": "no-such-kind"}


@pytest.fixture(autouse=True)
def drained_queue(backends) -> Iterator[None]:
    """Retried tasks run on the configured queue's background workers: let them finish before tables empty."""
    yield
    assert get_task_queue().join(timeout=30)


@pytest.fixture
def admin(make_user, login) -> dict[str, str]:
    return bearer(login(make_user(Role.ADMIN))["access_token"])


def fail_task(task_id: str, payload: dict | None = None) -> FailedTask:
    """Run a task the message processor must discard, so that it lands in failed_tasks."""
    InProcessQueue(inline=True).enqueue("messages", "message_processor", payload or UNKNOWN_KIND, task_id=task_id)
    with session_scope() as session:
        return session.scalars(select(FailedTask).where(FailedTask.task_id == task_id)).one()


def record_task(task_id: str, status: TaskStatus) -> None:
    """A task record in `status`, written by the same functions the queue and the targets use."""
    task = Task.build("messages", "message_processor", {"n": task_id}, task_id=task_id)
    delivery = Delivery(task.task_id, task.queue, task.target, task.payload, attempt=1)
    with session_scope() as session:
        record_enqueued(session, task)
        if status in (TaskStatus.PROCESSING, TaskStatus.COMPLETED):
            start_attempt(session, delivery)
        if status is TaskStatus.COMPLETED:
            complete_attempt(session, delivery)


def failed_task_ids() -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FailedTask.task_id)))


def audit_actions(entity_id: str) -> list[AuditLog]:
    with session_scope() as session:
        statement = select(AuditLog).where(AuditLog.entity_id == entity_id).order_by(AuditLog.created_at)
        return list(session.scalars(statement))


def every_route() -> list[tuple[str, str, dict | None]]:
    return [("get", f"{QUEUE}/stats", None), ("get", f"{QUEUE}/failed", None),
            ("post", f"{QUEUE}/retry-failed", {"job_ids": [str(uuid.uuid4())]}),
            ("delete", f"{QUEUE}/clear-failed", None)]  # fmt: skip


def test_no_token_gets_401_and_a_user_403_on_every_queue_route(secretary_api, make_user, login):
    fail_task("bad-1")
    user = bearer(login(make_user(Role.USER))["access_token"])

    for method, path, body in every_route():
        assert getattr(secretary_api, method)(path, json=body).status_code == 401, path
        forbidden = getattr(secretary_api, method)(path, json=body, headers=user)
        assert forbidden.status_code == 403 and forbidden.json["title"] == "Forbidden", path
    assert failed_task_ids() == ["bad-1"]


def test_stats_count_tasks_by_state(secretary_api, admin):
    empty = secretary_api.get(f"{QUEUE}/stats", headers=admin)
    record_task("waiting-1", TaskStatus.PENDING)
    record_task("waiting-2", TaskStatus.PENDING)
    record_task("running-1", TaskStatus.PROCESSING)
    record_task("done-1", TaskStatus.COMPLETED)
    fail_task("bad-1")

    stats = secretary_api.get(f"{QUEUE}/stats", headers=admin)

    assert empty.status_code == 200 and empty.json == {"pending": 0, "processing": 0, "failed": 0, "completed": 0}
    assert stats.json == {"pending": 2, "processing": 1, "failed": 1, "completed": 1}


def test_failed_lists_newest_first_with_payload_and_a_limit(secretary_api, admin):
    first = fail_task("bad-1", {"kind": "no-such-kind", "conversation_id": "c-1"})
    fail_task("bad-2")
    fail_task("bad-3")

    listed = secretary_api.get(f"{QUEUE}/failed", headers=admin)
    limited = secretary_api.get(f"{QUEUE}/failed?limit=2", headers=admin)
    too_many = secretary_api.get(f"{QUEUE}/failed?limit=101", headers=admin)

    assert listed.status_code == 200 and listed.json["total"] == 3 and listed.json["limit"] == 100
    assert [item["task_id"] for item in listed.json["items"]] == ["bad-3", "bad-2", "bad-1"]
    oldest = listed.json["items"][-1]
    assert oldest["id"] == str(first.id) and oldest["queue"] == "messages" and oldest["target"] == "message_processor"
    assert oldest["payload"] == {"kind": "no-such-kind", "conversation_id": "c-1"} and oldest["attempts"] == 1
    assert "unknown task kind" in oldest["last_error"] and oldest["failed_at"]
    assert [item["task_id"] for item in limited.json["items"]] == ["bad-3", "bad-2"] and limited.json["total"] == 3
    assert too_many.status_code == 422


def test_retry_failed_enqueues_again_under_a_new_id_and_lists_unknown_ids(secretary_api, admin):
    job = fail_task("bad-1")
    kept = fail_task("bad-2")
    unknown = uuid.uuid4()

    response = secretary_api.post(f"{QUEUE}/retry-failed", json={"job_ids": [str(job.id), str(unknown)]},
                                  headers=admin)  # fmt: skip
    assert get_task_queue().join(timeout=30)

    assert response.status_code == 200
    [retried] = response.json["retried"]
    assert retried["job_id"] == str(job.id) and retried["task_id"].startswith("bad-1-retry-")
    assert response.json["not_found"] == [str(unknown)]
    with session_scope() as session:
        record = session.scalars(select(TaskRecord).where(TaskRecord.task_id == retried["task_id"])).one()
        assert session.get(FailedTask, job.id) is None and session.get(FailedTask, kept.id) is not None
    # The new task really ran: the processor discarded it again, so it is back among the failed tasks.
    assert (record.queue, record.target, record.payload) == ("messages", "message_processor", UNKNOWN_KIND)
    assert record.status is TaskStatus.FAILED and record.attempts == 1
    assert failed_task_ids() == sorted(["bad-2", retried["task_id"]])
    [entry] = audit_actions(str(job.id))
    assert entry.action == "queue.failed.retry" and entry.new_value == {"task_id": retried["task_id"]}


def test_retry_failed_validates_its_body(secretary_api, admin):
    for body in ({"job_ids": []}, {"job_ids": [str(uuid.uuid4())] * 101}, {"job_ids": ["not-a-uuid"]}, {}):
        response = secretary_api.post(f"{QUEUE}/retry-failed", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json["errors"][0]["field"].startswith("job_ids")


def test_clear_failed_forgets_only_failed_tasks_and_is_audited(secretary_api, admin):
    fail_task("bad-1")
    fail_task("bad-2")
    record_task("running-1", TaskStatus.PROCESSING)

    cleared = secretary_api.delete(f"{QUEUE}/clear-failed", headers=admin)
    again = secretary_api.delete(f"{QUEUE}/clear-failed", headers=admin)
    stats = secretary_api.get(f"{QUEUE}/stats", headers=admin)

    assert cleared.status_code == 200 and cleared.json == {"cleared": 2}
    assert again.json == {"cleared": 0}
    assert failed_task_ids() == []
    assert stats.json["processing"] == 1 and stats.json["failed"] == 0
    assert [entry.new_value for entry in audit_actions("all")] == [{"cleared": 2}, {"cleared": 0}]


def test_the_queue_routes_are_documented_with_schemas_and_security(secretary_api):
    paths = secretary_api.get("/api/v1/openapi.json").json["paths"]

    for method, path, _ in every_route():
        operation = paths[path][method]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert "application/json" in operation["responses"]["200"]["content"], path
    assert "requestBody" in paths[f"{QUEUE}/retry-failed"]["post"]

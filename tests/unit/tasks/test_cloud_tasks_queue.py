"""The Cloud Tasks adapter builds the HTTP task Google expects; a fake client speaking CloudTasksClient's
create_task / create_queue records what it is asked."""

from datetime import UTC, datetime, timedelta

import pytest
from google.api_core.exceptions import AlreadyExists

from shared.config import Settings
from shared.errors import ConfigurationError
from shared.queue import Task
from shared.tasks.cloud_tasks import CloudTasksQueue

SERVICE_ACCOUNT = "tasks@clinicbot.iam.gserviceaccount.com"
QUEUE_PATH = "projects/clinicbot/locations/southamerica-east1/queues/clinicbot-tasks-messages"


class FakeCloudTasks:
    def __init__(self) -> None:
        self.tasks: dict[str, object] = {}
        self.queues: list[str] = []

    def create_task(self, *, parent, task, timeout=None):
        if task.name in self.tasks:
            raise AlreadyExists(f"Requested entity already exists: {task.name}")
        assert task.name.startswith(parent + "/tasks/")
        self.tasks[task.name] = task
        return task

    def create_queue(self, *, parent, queue, timeout=None):
        if queue.name in self.queues:
            raise AlreadyExists("Queue already exists")
        assert queue.name.startswith(parent + "/queues/")
        self.queues.append(queue.name)
        return queue


def settings(**values) -> Settings:
    values = {"task_queue_project": "clinicbot", "task_target_base_url": "https://tasks.example.com"} | values
    return Settings(database_url="postgresql+pg8000://u@127.0.0.1/x", redis_url="redis://127.0.0.1/0",
                    task_queue_backend="cloudtasks", **values)  # fmt: skip


def production(**values) -> Settings:
    return settings(**({"environment": "production", "task_service_account_email": SERVICE_ACCOUNT} | values))


def emulator(**values) -> Settings:
    return settings(environment="local", cloud_tasks_emulator_host="127.0.0.1:9022",
                    task_auth_secret="s3cret-for-tasks", **values)  # fmt: skip


def test_production_sends_a_json_post_with_an_oidc_token_and_no_secret():
    client = FakeCloudTasks()
    queue = CloudTasksQueue(production(task_auth_secret="a-long-enough-secret-value"), client)

    assert queue.create_task(Task.build("messages", "message_processor", {"id": 1}, task_id="turn-x@c.us")) is True

    [(name, task)] = client.tasks.items()
    request = task.http_request
    assert name.startswith(QUEUE_PATH + "/tasks/turn-x-c-us-")
    assert (request.url, request.http_method.name, request.body) == (
        "https://tasks.example.com/tasks/message_processor",
        "POST",
        b'{"id":1}',
    )
    assert dict(request.headers) == {"Content-Type": "application/json"}
    assert (request.oidc_token.service_account_email, request.oidc_token.audience) == (
        SERVICE_ACCOUNT, "https://tasks.example.com/tasks/message_processor")  # fmt: skip
    assert client.queues == []  # production queues come from Terraform


def test_the_configured_audience_goes_into_the_token():
    client = FakeCloudTasks()

    CloudTasksQueue(production(task_oidc_audience="clinicbot-tasks"), client).create_task(
        Task.build("messages", "message_processor", {})
    )

    assert next(iter(client.tasks.values())).http_request.oidc_token.audience == "clinicbot-tasks"


def test_a_task_name_the_queue_already_holds_is_a_duplicate():
    queue = CloudTasksQueue(production(), FakeCloudTasks())
    task = Task.build("messages", "message_processor", {}, task_id="turn-1")

    assert (queue.create_task(task), queue.create_task(task)) == (True, False)


def test_a_delay_becomes_the_schedule_time():
    client = FakeCloudTasks()

    CloudTasksQueue(production(), client).create_task(Task.build("sessions", "message_processor", {}, delay=90))

    scheduled = next(iter(client.tasks.values())).schedule_time
    assert abs(scheduled - (datetime.now(UTC) + timedelta(seconds=90))) < timedelta(seconds=5)


def test_with_the_emulator_queues_are_created_once_and_the_secret_replaces_the_token():
    client = FakeCloudTasks()
    queue = CloudTasksQueue(emulator(), client)

    queue.create_task(Task.build("messages", "message_processor", {}))
    queue.create_task(Task.build("messages", "message_processor", {}))
    queue.create_task(Task.build("media", "message_processor", {}))

    assert client.queues == [QUEUE_PATH, QUEUE_PATH.replace("-messages", "-media")]
    request = next(iter(client.tasks.values())).http_request
    assert request.headers["X-Clinicbot-Task-Secret"] == "s3cret-for-tasks"
    assert not request.oidc_token.service_account_email


def test_ensure_queues_tolerates_existing_queues():
    client = FakeCloudTasks()
    queue = CloudTasksQueue(emulator(), client)

    queue.ensure_queues(["messages", "media"])
    queue.ensure_queues(["messages"])

    assert len(client.queues) == 2


@pytest.mark.parametrize("missing", ["task_queue_project", "task_target_base_url"])
def test_missing_settings_are_named(missing):
    with pytest.raises(ConfigurationError, match=missing.upper()):
        CloudTasksQueue(emulator(**{missing: None}), FakeCloudTasks())


def test_production_needs_the_service_account():
    with pytest.raises(ConfigurationError, match="TASK_SERVICE_ACCOUNT_EMAIL"):
        CloudTasksQueue(production(task_service_account_email=None), FakeCloudTasks())

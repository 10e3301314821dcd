"""The Cloud Tasks adapter builds the HTTP task Google expects; a fake client speaking CloudTasksClient's
create_task / create_queue records what it is asked. Its direct CreateTask call is checked over real gRPC."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.api_core.exceptions import AlreadyExists
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from shared.config import Settings
from shared.errors import ConfigurationError
from shared.queue import Task
from shared.tasks.cloud_tasks import CloudTasksQueue, DirectCreateTask

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


class CloudTasksStandIn:
    """CreateTask over real gRPC: notes each request and its metadata, refuses a task name it holds."""

    def __init__(self) -> None:
        self.requests: list[tuple[object, dict[str, str]]] = []
        handler = grpc.unary_unary_rpc_method_handler(
            self.create_task,
            request_deserializer=tasks_v2.CreateTaskRequest.pb().FromString,
            response_serializer=tasks_v2.Task.pb().SerializeToString,
        )
        self.server = grpc.server(ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler("google.cloud.tasks.v2.CloudTasks", {"CreateTask": handler})]
        )
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def create_task(self, request, context):
        if any(seen.task.name == request.task.name for seen, _ in self.requests):
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"Requested entity already exists: {request.task.name}")
        self.requests.append((request, dict(context.invocation_metadata())))
        return request.task


@pytest.fixture
def stand_in():
    server = CloudTasksStandIn()
    server.server.start()
    yield server
    server.server.stop(grace=None)


@pytest.fixture
def direct_client(stand_in):
    channel = grpc.insecure_channel(f"127.0.0.1:{stand_in.port}")
    yield DirectCreateTask(tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel)))
    channel.close()


def test_the_direct_create_task_sends_the_task_and_the_routing_header(stand_in, direct_client):
    queue = CloudTasksQueue(production(), direct_client)

    assert queue.create_task(Task.build("messages", "message_processor", {"id": 1}, task_id="turn-1")) is True

    [(request, metadata)] = stand_in.requests
    assert request.parent == QUEUE_PATH and request.task.name == QUEUE_PATH + "/tasks/turn-1"
    assert (request.task.http_request.url, request.task.http_request.body) == (
        "https://tasks.example.com/tasks/message_processor", b'{"id":1}')  # fmt: skip
    assert request.task.http_request.oidc_token.service_account_email == SERVICE_ACCOUNT
    assert metadata["x-goog-request-params"] == "parent=" + QUEUE_PATH


def test_the_direct_create_task_raises_google_api_core_errors(direct_client):
    queue = CloudTasksQueue(production(), direct_client)
    task = Task.build("messages", "message_processor", {}, task_id="turn-1")

    assert (queue.create_task(task), queue.create_task(task)) == (True, False)
    with pytest.raises(AlreadyExists):
        direct_client.create_task(parent=QUEUE_PATH, task=queue.cloud_task(task, QUEUE_PATH))
    assert direct_client.transport is direct_client.client.transport  # everything else is the client's own

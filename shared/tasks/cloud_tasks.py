"""The Cloud Tasks adapter: one HTTP task per `enqueue`, POSTed by Google (or its emulator) to the target.

In production each task carries an OIDC token of TASK_SERVICE_ACCOUNT_EMAIL that the target verifies.
With CLOUD_TASKS_EMULATOR_HOST set it talks plain gRPC to the emulator, creates the queues it uses, and
sends the shared secret header instead (the emulator cannot sign tokens). The emulator does not refuse
a second task of the same name, as Cloud Tasks does; our task records still catch most duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from shared.config import Settings, get_settings
from shared.db import utcnow
from shared.queue import SECRET_HEADER, RecordingTaskQueue, Task, cloud_queue_name, target_url
from shared.tasks.auth import task_auth_mode

CREATE_TIMEOUT_SECONDS = 10.0


def build_client(settings: Settings) -> Any:
    """A CloudTasksClient: Google's, with the default credentials, or the emulator's over plain gRPC."""
    from google.cloud import tasks_v2

    if not settings.cloud_tasks_emulator_host:
        return DirectCreateTask(tasks_v2.CloudTasksClient())
    import grpc
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(settings.cloud_tasks_emulator_host)
    return DirectCreateTask(tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel)))


class DirectCreateTask:
    """A CloudTasksClient whose `create_task` calls the RPC on the client's own (authenticated) channel.

    The generated method wraps every call in timeout, error-mapping and logging layers and marshals it
    through proto-plus: 0.11 ms of CPU on top of the 0.29 ms the RPC itself costs, paid for every message
    the intake takes in. None of those layers retries (CreateTask is not idempotent, so it has no retry
    policy); the one thing they do that we need, turning gRPC errors into google.api_core's (AlreadyExists),
    is done here. Every other method is the client's own.
    """

    METHOD = "/google.cloud.tasks.v2.CloudTasks/CreateTask"

    def __init__(self, client: Any) -> None:
        from google.cloud import tasks_v2

        self.client = client
        self._request = tasks_v2.CreateTaskRequest.pb()
        self._call = client.transport.grpc_channel.unary_unary(
            self.METHOD,
            request_serializer=self._request.SerializeToString,
            response_deserializer=tasks_v2.Task.deserialize,
        )

    def create_task(self, *, parent: str, task: Any, timeout: float | None = None) -> Any:
        import grpc
        from google.api_core import exceptions, gapic_v1
        from google.cloud import tasks_v2

        request = self._request(parent=parent, task=tasks_v2.Task.pb(task))
        # The routing header is how Google's front end finds the queue's region, as the generated method sends it.
        metadata = [gapic_v1.routing_header.to_grpc_metadata((("parent", parent),))]
        try:
            return self._call(request, timeout=timeout, metadata=metadata)
        except grpc.RpcError as exc:
            raise exceptions.from_grpc_error(exc) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class CloudTasksQueue(RecordingTaskQueue):
    names_are_unique = True

    def __init__(self, settings: Settings | None = None, client: Any = None) -> None:
        """`client` speaks CloudTasksClient's create_task / create_queue (default: built from settings)."""
        self.settings = settings or get_settings()
        self.settings.require("task_queue_project", "task_target_base_url")
        self.mode = task_auth_mode(self.settings)
        if self.mode == "oidc":
            self.settings.require("task_service_account_email")
        self.emulated = bool(self.settings.cloud_tasks_emulator_host)
        self.client = client if client is not None else build_client(self.settings)
        self._known_queues: set[str] = set()

    def create_task(self, task: Task) -> bool:
        from google.api_core.exceptions import AlreadyExists

        if self.emulated and task.queue not in self._known_queues:
            self.ensure_queues([task.queue])
        parent = self.queue_path(task.queue)
        try:
            self.client.create_task(parent=parent, task=self.cloud_task(task, parent), timeout=CREATE_TIMEOUT_SECONDS)
        except AlreadyExists:
            return False
        return True

    def cloud_task(self, task: Task, parent: str) -> Any:
        """The Cloud Tasks Task for `task`: a JSON POST to its target, authenticated, maybe scheduled."""
        from google.cloud import tasks_v2

        # Built as the raw protobuf, then wrapped: proto-plus marshals every field it is given one by one,
        # which cost a tenth of a CreateTask call on the intake's path. `wrap` copies nothing.
        url = target_url(self.settings, task.target)
        headers = {"Content-Type": "application/json"}
        oidc_token = None
        if self.mode == "oidc":
            audience = self.settings.task_oidc_audience or url
            oidc_token = tasks_v2.OidcToken.pb()(
                service_account_email=self.settings.task_service_account_email, audience=audience
            )
        elif self.settings.task_auth_secret is not None:
            headers[SECRET_HEADER] = self.settings.task_auth_secret.get_secret_value()
        request = tasks_v2.HttpRequest.pb()(http_method=tasks_v2.HttpMethod.POST, url=url, body=task.body,
                                            headers=headers, oidc_token=oidc_token)  # fmt: skip
        cloud_task = tasks_v2.Task.pb()(name=f"{parent}/tasks/{task.task_id}", http_request=request)
        if task.delay:
            cloud_task.schedule_time.FromDatetime(utcnow() + dt.timedelta(seconds=task.delay))
        return tasks_v2.Task.wrap(cloud_task)

    def queue_path(self, queue: str) -> str:
        return f"{self.location_path()}/queues/{cloud_queue_name(self.settings, queue)}"

    def location_path(self) -> str:
        return f"projects/{self.settings.task_queue_project}/locations/{self.settings.task_queue_location}"

    def ensure_queues(self, queues: Iterable[str]) -> None:
        """Create the given logical queues where missing (the emulator starts empty; production uses Terraform)."""
        from google.api_core.exceptions import AlreadyExists
        from google.cloud import tasks_v2

        for queue in queues:
            with suppress(AlreadyExists):
                self.client.create_queue(parent=self.location_path(), queue=tasks_v2.Queue(name=self.queue_path(queue)),
                                         timeout=CREATE_TIMEOUT_SECONDS)  # fmt: skip
            self._known_queues.add(queue)

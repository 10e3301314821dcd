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
        return tasks_v2.CloudTasksClient()
    import grpc
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(settings.cloud_tasks_emulator_host)
    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


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

        url = target_url(self.settings, task.target)
        request = tasks_v2.HttpRequest(http_method=tasks_v2.HttpMethod.POST, url=url, body=task.body,
                                       headers={"Content-Type": "application/json"})  # fmt: skip
        if self.mode == "oidc":
            audience = self.settings.task_oidc_audience or url
            request.oidc_token = tasks_v2.OidcToken(
                service_account_email=self.settings.task_service_account_email, audience=audience
            )
        elif self.settings.task_auth_secret is not None:
            request.headers[SECRET_HEADER] = self.settings.task_auth_secret.get_secret_value()
        cloud_task = tasks_v2.Task(name=f"{parent}/tasks/{task.task_id}", http_request=request)
        if task.delay:
            cloud_task.schedule_time = utcnow() + dt.timedelta(seconds=task.delay)
        return cloud_task

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

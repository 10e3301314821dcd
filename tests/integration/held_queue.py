"""A task queue that records and keeps each task it is given, so that a test runs them itself."""

from __future__ import annotations

from shared.queue import RecordingTaskQueue, Task


class HeldQueue(RecordingTaskQueue):
    """Our queue's recording side (task_records, duplicate names refused), keeping each task instead of running it."""

    names_are_unique = False

    def __init__(self) -> None:
        self.created: list[Task] = []

    def create_task(self, task: Task) -> bool:
        self.created.append(task)
        return True

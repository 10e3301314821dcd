"""Through the real Cloud Tasks emulator: the Cloud Tasks adapter creates HTTP tasks, the emulator POSTs them
to a functions-framework target served here, and handle_task records the outcome."""

import threading
import time
from pathlib import Path

import functions_framework
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from local.cloud_tasks_emulator import CloudTasksEmulator
from local.servers import EmbeddedServerError, free_port
from shared.config import get_settings
from shared.db import session_scope
from shared.queue import task_id_for
from shared.tasks.cloud_tasks import CloudTasksQueue
from shared.tasks.models import FailedTask, TaskRecord, TaskStatus

TARGETS_FILE = Path(__file__).parents[1] / "unit/tasks/task_targets.py"
SECRET = "s3cret-for-the-emulator"
MAX_ATTEMPTS = 2


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    emulator = CloudTasksEmulator(max_attempts=MAX_ATTEMPTS, log_file=tmp_path_factory.mktemp("tasks") / "emulator.log")
    try:
        host = emulator.start()
    except EmbeddedServerError as exc:
        log = emulator.log_file.read_text(errors="replace") if emulator.log_file.exists() else ""
        emulator.stop()
        if "Starting Cloud Tasks Emulator" not in log:  # uv could not install it (no network, no uv)
            pytest.skip(f"the Cloud Tasks emulator cannot be installed here: {exc}\n{log[-1000:]}")
        raise
    yield host
    emulator.stop()


class TargetServer:
    """The `ledger_target` function behind a real HTTP server, noting the headers of every request."""

    def __init__(self) -> None:
        self.app = functions_framework.create_app("ledger_target", str(TARGETS_FILE))
        self.requests: list[dict[str, str]] = []
        self.server = make_server("127.0.0.1", free_port(), self._note, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def _note(self, environ, start_response):
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key[:5] == "HTTP_"}
        self.requests.append(headers | {"Content-Type": environ.get("CONTENT_TYPE", "")})
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def target_server():
    server = TargetServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()


@pytest.fixture
def queue(backends, emulator, target_server, monkeypatch) -> CloudTasksQueue:
    target_server.requests.clear()
    environment = {"TASK_QUEUE_BACKEND": "cloudtasks", "CLOUD_TASKS_EMULATOR_HOST": emulator,
                   "TASK_QUEUE_PROJECT": "clinicbot-test", "TASK_TARGET_BASE_URL": target_server.url,
                   "TASK_AUTH_SECRET": SECRET, "TASK_MAX_ATTEMPTS": str(MAX_ATTEMPTS)}  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield CloudTasksQueue()
    get_settings.cache_clear()


def wait_for_record(task_id: str, status: TaskStatus, timeout: float = 20.0) -> TaskRecord:
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            record = session.scalar(select(TaskRecord).where(TaskRecord.task_id == task_id))
        if record is not None and record.status is status:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} is {record and record.status}, not {status}, after {timeout} s")
        time.sleep(0.1)


def test_a_task_is_dispatched_to_its_target_with_the_secret_and_completed(queue, target_server):
    message_id = "turn-false_5511999999999@c.us_3EB0C767D26A1D2A7C4C"

    created = queue.enqueue("messages", "ledger_target", {"text": "olá"}, task_id=message_id)
    record = wait_for_record(task_id_for(message_id), TaskStatus.COMPLETED)

    assert created is True and record.attempts == 1
    [headers] = target_server.requests
    assert headers["X-Clinicbot-Task-Secret"] == SECRET
    assert headers["X-Cloudtasks-Taskname"] == task_id_for(message_id)
    assert headers["X-Cloudtasks-Queuename"].endswith("/queues/clinicbot-tasks-messages")
    assert headers["X-Cloudtasks-Taskretrycount"] == "0"
    assert headers["Content-Type"] == "application/json"
    assert queue.enqueue("messages", "ledger_target", {"text": "olá"}, task_id=message_id) is False
    assert len(target_server.requests) == 1


def test_a_failing_task_is_retried_by_the_emulator_then_kept_as_failed(queue, target_server):
    queue.enqueue("messages", "ledger_target", {"behave": "fail"}, task_id="turn-fails")

    record = wait_for_record("turn-fails", TaskStatus.FAILED)
    with session_scope() as session:
        dead = session.scalars(select(FailedTask)).one()

    assert record.attempts == MAX_ATTEMPTS and dead.attempts == MAX_ATTEMPTS
    assert [headers["X-Cloudtasks-Taskretrycount"] for headers in target_server.requests] == ["0", "1"]


def test_a_delayed_task_waits_for_its_time(queue, target_server):
    started = time.monotonic()

    queue.enqueue("sessions", "ledger_target", {}, task_id="restart-later", delay=1.5)
    time.sleep(0.5)
    early = list(target_server.requests)
    wait_for_record("restart-later", TaskStatus.COMPLETED)

    assert early == [] and time.monotonic() - started >= 1.5

"""The Cloud Tasks emulator (PyPI `gcloud-tasks-emulator`) as a child process, for the local stack and tests.

It pins an old protobuf, so it runs in its own environment through `uv tool run` (downloaded from PyPI on
first use, about 3 s; cached after that). It serves the Cloud Tasks gRPC API on 127.0.0.1:<port> (it binds
every interface, as it was written) and POSTs each HTTP task to the task's URL with Cloud Tasks'
X-CloudTasks-* headers and the task's own headers. Known differences from Cloud Tasks: it accepts a second
task of the same name, retries failures at once (no backoff) and sends the queue's full path in
X-CloudTasks-QueueName. Point CLOUD_TASKS_EMULATOR_HOST at what `start()` returns.

    uv run python -m local.cloud_tasks_emulator --port 9022
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import grpc

from local.servers import EmbeddedServerError, die_with_parent, free_port, stop_process, wait_until_ready

EMULATOR_PACKAGE = "gcloud-tasks-emulator==0.6.2"


class CloudTasksEmulator:
    def __init__(self, port: int | None = None, *, max_attempts: int = 5, log_file: Path | None = None) -> None:
        """`max_attempts` per task, matching TASK_MAX_ATTEMPTS (the emulator's own default is to retry forever)."""
        self.port = port or free_port()
        self.max_attempts = max_attempts
        self.log_file = log_file or Path(tempfile.mkdtemp(prefix="clinicbot-cloud-tasks-")) / "emulator.log"
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        uv = shutil.which("uv")
        if uv is None:
            raise EmbeddedServerError("the Cloud Tasks emulator runs through `uv tool run`, and uv is not on PATH")
        return [uv, "tool", "run", "--quiet", "--from", EMULATOR_PACKAGE, "gcloud-tasks-emulator", "start",
                "--port", str(self.port), "--max-retries", str(self.max_attempts - 1)]  # fmt: skip

    def start(self, timeout: float = 180.0) -> str:
        """Start the emulator (installing it on first use) and return its host:port once gRPC answers."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip
        wait_until_ready(self.process, "Cloud Tasks emulator", timeout, self.log_file, self._answers)
        return self.host

    def _answers(self) -> None:
        with grpc.insecure_channel(self.host) as channel:
            grpc.channel_ready_future(channel).result(timeout=1)

    def stop(self) -> None:
        # SIGTERM reaches uv, which passes it on to the emulator; stop_process kills the group if either lingers.
        if self.process is not None:
            stop_process(self.process, signal.SIGTERM, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Cloud Tasks emulator until Ctrl-C.")
    parser.add_argument("--port", type=int, default=9022)
    parser.add_argument("--max-attempts", type=int, default=5)
    args = parser.parse_args()
    emulator = CloudTasksEmulator(args.port, max_attempts=args.max_attempts)
    print(f"Cloud Tasks emulator on {emulator.start()} (log: {emulator.log_file}); Ctrl-C stops it", flush=True)
    try:
        emulator.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()

"""The one routing table: which function owns which public path prefix.

The local stack serves every function behind one port from this table, and the production ingress is
generated from it. A path belongs to the function with the longest matching prefix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str  # functions/<name>/main.py, whose entry point is also called <name>; app.py has create_app()
    extra: str | None  # the optional dependency group its image installs
    prefixes: tuple[str, ...]  # path prefixes it owns
    public: bool = True  # False for task targets: reached by the queue (authenticated), not in the API docs
    asgi: bool = False  # an async entry point (functions_framework.aio): served with `functions-framework --asgi`

    @property
    def source(self) -> str:
        return f"functions/{self.name}/main.py"


TASKS_PREFIX = "/tasks"
MESSAGE_PROCESSOR = "message_processor"  # the task target for everything that follows a stored message
SCHEDULER_TICK = "scheduler_tick"  # the cron target, and the target of the job runs it fans out


def task_path(name: str) -> str:
    """Where the task queue delivers the tasks of target function `name` (gateway, ingress and in-process alike)."""
    return f"{TASKS_PREFIX}/{name}"


def task_target(name: str, extra: str | None) -> Function:
    """The routing entry of a task target: it owns /tasks/<name> and is reached only by the queue."""
    return Function(name, extra, (task_path(name),), public=False)


FUNCTIONS: tuple[Function, ...] = (
    Function("secretary_api", "api", ("/api/v1",)),
    # Only WAHA's webhook: /api/v1/webhooks itself is the secretary API's outbound webhooks (card 113).
    Function("webhook_intake", "intake", ("/api/v1/webhooks/waha",)),
    # The owner's and secretaries' numbers (issue 11): read side only.
    Function("metrics_api", "metrics", ("/api/v1/dashboard", "/api/v1/metrics", "/api/v1/alerts", "/api/v1/reports")),
    # The live dashboard's Server-Sent Events (card 145): async, so that an open stream pins no worker.
    Function("metrics_stream", "metrics", ("/api/v1/dashboard/stream",), asgi=True),
    task_target(MESSAGE_PROCESSOR, "processor"),
    task_target(SCHEDULER_TICK, "scheduler"),
)


def owner_of(path: str) -> Function | None:
    """The function that serves `path`, by longest prefix; None outside the public URL space."""
    best: tuple[int, Function] | None = None
    for function in FUNCTIONS:
        for prefix in function.prefixes:
            matches = path == prefix or path.startswith(prefix.rstrip("/") + "/")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), function)
    return best[1] if best else None

"""Task target functions for the queue tests, loaded by path like functions/<name>/main.py.

`recorder` is a bare functions-framework target: it appends each delivery (headers and body) to the file
named in the payload and answers 503 until its retry count reaches `succeed_on_retry`.
`ledger_target` goes through `handle_task`; its payload says how the handler behaves.
"""

import json
from pathlib import Path

import functions_framework

from shared.tasks.target import DiscardTask, RetryLater, handle_task


@functions_framework.http
def recorder(request):
    payload = request.get_json()
    delivery = {"path": request.path, "headers": dict(request.headers), "payload": payload}
    with Path(payload["log"]).open("a") as log:
        log.write(json.dumps(delivery) + "\n")
    retry_count = int(request.headers["X-CloudTasks-TaskRetryCount"])
    if retry_count < payload.get("succeed_on_retry", 0):
        return {"error": "not yet"}, 503, {"Retry-After": str(payload.get("retry_after", 0))}
    return {"ok": True}


def run_ledger_task(payload: dict) -> None:
    if "log" in payload:
        with Path(payload["log"]).open("a") as log:
            log.write(json.dumps(payload) + "\n")
    match payload.get("behave"):
        case "fail":
            raise RuntimeError("asked to fail")
        case "retry_later":
            raise RetryLater(7, "the clinic's calendar is busy")
        case "discard":
            raise DiscardTask("the message is gone")


@functions_framework.http
def ledger_target(request):
    return handle_task(request, run_ledger_task)

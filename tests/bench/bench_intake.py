"""Webhook intake throughput and latency, against a trivial function served the same way, in one run.

    uv run python tests/bench/bench_intake.py [--duration 10] [--connections 16] [--workers 4] [--threads 1]

Both functions run under functions-framework's own server (gunicorn, WORKERS/THREADS as given; THREADS=1 is
gunicorn's sync worker, more is gthread), exactly as in their containers. wrk (Debian package `wrk`) posts at
`--connections` concurrent connections:
to the trivial function a small JSON body, to the intake WAHA `message` webhooks, each a new message from
one of 2,000 patients, signed with X-Webhook-Hmac. The intake does all its real work: rate-limit counters
in Redis, HMAC, validation, the conversation upsert and message insert committed in Postgres, and one
processing task per message (its record in the message's transaction, then CreateTask over gRPC to the real
Cloud Tasks emulator, the production code path; running the turn
is the message processor's job, elsewhere: the bench's Cloud Tasks emulator holds its queues paused, as
Google's service would hold them away from this machine, so the figures are the intake's alone).
Postgres and Redis are DATABASE_URL / REDIS_URL when set (a throwaway database and namespace), else
embedded. Afterwards the stored rows and tasks are counted: every acknowledged message must be in Postgres
with exactly one task. Target on 2 cores: p99 < 25 ms, >= 1,000 req/s, >= 20% of the trivial function's rate.

The default is 4 sync workers. gthread keeps each keep-alive connection on the worker that accepted it, and
the workers accept unevenly (1, 3, 4 and 8 of 16 connections in one run), so one worker's threads queue
behind its GIL while another idles; a sync worker accepts only when it is free. On 2 cores the intake's p99
was 28 ms with 4x1 against 47-186 ms with 4x4 at about the same rate; 2x8, the old default, was worst
(464 req/s, p99 130 ms), and 8 sync workers already do worse than 4 (530 req/s, p99 613 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, suppress
from pathlib import Path

import httpx
import psutil
import redis
from sqlalchemy import create_engine, text

from local.cloud_tasks_emulator import CloudTasksEmulator
from local.servers import EmbeddedPostgres, EmbeddedRedis, create_database, drop_database, free_port, stop_process
from shared.config import Settings
from shared.migrate import PROJECT_ROOT, upgrade_database
from shared.tasks.cloud_tasks import CloudTasksQueue

HMAC_KEY = "bench-webhook-key"
QUEUES = ("messages", "media", "sessions")
FIELDS = set(Settings.model_fields)
PATH = "/api/v1/webhooks/waha"
TRIVIAL = """import functions_framework


@functions_framework.http
def trivial(request):
    request.get_data()
    return {"status": "received"}
"""


def backends(cleanup: ExitStack, scratch: Path) -> tuple[str, str]:
    server_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not server_url:
        postgres = EmbeddedPostgres(scratch / "postgres", durable=False)
        server_url = postgres.start()
        cleanup.callback(postgres.stop)
    if not redis_url:
        embedded = EmbeddedRedis(scratch / "redis", durable=False)
        redis_url = embedded.start()
        cleanup.callback(embedded.stop)
    return server_url, redis_url


def bench_backends(cleanup: ExitStack) -> tuple[Path, str, str]:
    """A scratch folder, a migrated throwaway database and a Redis URL, all gone when `cleanup` closes."""
    scratch = Path(tempfile.mkdtemp(prefix="clinicbot-bench-"))
    scratch.chmod(0o755)
    cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
    server_url, redis_url = backends(cleanup, scratch)
    name = f"clinicbot_bench_{uuid.uuid4().hex[:10]}"
    database_url = create_database(server_url, name)
    cleanup.callback(drop_database, server_url, name)
    upgrade_database(database_url)
    return scratch, database_url, redis_url


def webhook(n: int, stamp_ms: int) -> bytes:
    sender = f"55119{n % 2000:08d}@c.us"
    payload = {"id": f"false_{sender}_{uuid.uuid4().hex.upper()}", "timestamp": stamp_ms // 1000, "from": sender,
               "fromMe": False, "to": "5511900000000@c.us", "body": f"Olá, quero marcar uma consulta ({n})",
               "hasMedia": False, "_data": {"pushName": f"Paciente {n % 2000}"}}  # fmt: skip
    return json.dumps({"id": f"evt_{uuid.uuid4().hex}", "timestamp": stamp_ms, "event": "message",
                       "session": "default", "engine": "NOWEB", "payload": payload,
                       "me": {"id": "5511900000000@c.us", "pushName": "Clínica"}}).encode()  # fmt: skip


def lua_script(folder: Path, count: int) -> Path:
    """A wrk script cycling through `count` pre-signed webhooks read from a file (one wrk thread, and each run
    starts where the previous one stopped, so no message is posted twice)."""
    stamp = int(time.time() * 1000)
    data = folder / "webhooks.txt"
    with data.open("w") as out:
        for n in range(count):
            body = webhook(n, stamp)
            out.write(f"{hmac.new(HMAC_KEY.encode(), body, hashlib.sha512).hexdigest()}\t{body.decode()}\n")
    path = folder / "intake.lua"
    path.write_text(f"""local signatures, bodies, count, i = {{}}, {{}}, 0, 0
for line in io.lines("{data}") do
  local tab = string.find(line, "\\t")
  count = count + 1
  signatures[count] = string.sub(line, 1, tab - 1)
  bodies[count] = string.sub(line, tab + 1)
end
init = function(args)
  i = tonumber(args[1]) or 0
end
request = function()
  i = i % count + 1
  return wrk.format("POST", "{PATH}", {{["Content-Type"] = "application/json", ["X-Webhook-Hmac"] = signatures[i],
    ["X-Webhook-Hmac-Algorithm"] = "sha512", ["X-Webhook-Timestamp"] = "{stamp}"}}, bodies[i])
end
""")
    return path


def serve(target: str, source: Path, port: int, environment: dict[str, str], log: Path) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "functions-framework"), "--target", target, "--source", str(source),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=environment, cwd=PROJECT_ROOT, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{target} did not start; see {log}")


def run_wrk(port: int, connections: int, duration: int, script: Path, offset: int = 0) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
               f"http://127.0.0.1:{port}{PATH}", "--", str(offset)]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for name, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE):
        figures[f"p{name}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    total = re.search(r"(\d+) requests in", output)
    figures["requests"] = float(total.group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    with ExitStack() as cleanup:
        scratch, database_url, redis_url = bench_backends(cleanup)
        namespace = f"clinicbot-bench-{uuid.uuid4().hex[:8]}"
        environment = {**os.environ, "ENVIRONMENT": "local", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                       "REDIS_NAMESPACE": namespace, "WAHA_WEBHOOK_HMAC_KEY": HMAC_KEY, "LOG_LEVEL": "INFO",
                       "WEBHOOK_RATE_LIMIT_PER_SOURCE": "100000000",
                       "TASK_AUTH_SECRET": "bench-task-secret", "WORKERS": str(args.workers),
                       "THREADS": str(args.threads)}  # fmt: skip
        (scratch / "trivial").mkdir()
        (scratch / "trivial" / "main.py").write_text(TRIVIAL)
        trivial_script = scratch / "trivial.lua"
        trivial_script.write_text('wrk.method = "POST"\nwrk.body = \'{"event": "ping"}\'\n'
                                  'wrk.headers["Content-Type"] = "application/json"\n')  # fmt: skip
        tasks_queue = held_task_queue(cleanup, environment)
        expected = int((args.duration + 2) * 4000)  # more unique messages than the intake can take in the run
        script = lua_script(scratch, expected)
        results = {}
        for label, target, source, lua in (
            ("trivial", "trivial", scratch / "trivial" / "main.py", trivial_script),
            ("intake", "webhook_intake", PROJECT_ROOT / "functions/webhook_intake/main.py", script),
        ):
            port = free_port()
            process = serve(target, source, port, environment, scratch / f"{label}.log")
            try:
                warm_up = run_wrk(port, args.connections, 2, lua)
                before = cpu_seconds(process)
                results[label] = run_wrk(port, args.connections, args.duration, lua, int(warm_up["requests"]))
                results[label]["cpu_ms"] = {name: (after - before.get(name, 0.0)) * 1000 / results[label]["requests"]
                                            for name, after in cpu_seconds(process).items()}  # fmt: skip
                results[label]["acknowledged"] = warm_up["requests"] - warm_up["non_2xx"] + results[label]["requests"]
            finally:
                stop_process(process, timeout=10)
        engine = create_engine(database_url)
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM conversation_messages")).scalar()
            tasks = connection.execute(text("SELECT count(*) FROM task_records")).scalar()
        held = count_held_tasks(tasks_queue)
        engine.dispose()
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(match=f"{namespace}:*", count=500):
            store.delete(key)
        report(results, stored, tasks, held, args)


def held_task_queue(cleanup: ExitStack, environment: dict[str, str]):
    """Start the Cloud Tasks emulator with our queues created and paused; point the environment at it."""
    emulator = CloudTasksEmulator()
    environment.update(
        {
            "TASK_QUEUE_BACKEND": "cloudtasks",
            "CLOUD_TASKS_EMULATOR_HOST": emulator.start(),
            "TASK_QUEUE_PROJECT": "clinicbot-bench",
            "TASK_TARGET_BASE_URL": "http://127.0.0.1:9",
        }
    )
    cleanup.callback(emulator.stop)
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in environment.items() if k.lower() in FIELDS})
    queue = CloudTasksQueue(settings)
    queue.ensure_queues(QUEUES)
    for name in QUEUES:
        queue.client.pause_queue(name=queue.queue_path(name))
    return queue


def count_held_tasks(queue) -> int:
    return sum(len(list(queue.client.list_tasks(parent=queue.queue_path(name)))) for name in QUEUES)


def cpu_seconds(server: subprocess.Popen) -> dict[str, float]:
    """CPU time (user + system) so far of the function's processes and of everything else that serves it."""
    totals: dict[str, float] = {}

    def add(name: str, process: psutil.Process) -> None:
        with suppress(psutil.Error):
            times = process.cpu_times()
            totals[name] = totals.get(name, 0.0) + times.user + times.system

    function = psutil.Process(server.pid)
    for process in [function, *function.children(recursive=True)]:
        add("function", process)
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if process.info["name"] in ("postgres", "redis-server", "wrk") or "gcloud-tasks-emulator" in command:
            add("cloud-tasks" if "gcloud-tasks-emulator" in command else process.info["name"], process)
    return totals


def report(results: dict[str, dict[str, float]], stored: int, tasks: int, held: int, args: argparse.Namespace) -> None:
    print(f"{args.connections} connections, {args.duration} s each, functions-framework gunicorn "
          f"WORKERS={args.workers} THREADS={args.threads}, {os.cpu_count()} cores")  # fmt: skip
    for label, figures in results.items():
        print(f"  {label:8} {figures['rps']:8.0f} req/s   p50 {figures['p50']:6.2f} ms   p99 {figures['p99']:6.2f} ms"
              f"   ({figures['requests']:.0f} requests, {figures['non_2xx']:.0f} not 2xx)")  # fmt: skip
        spent = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(figures["cpu_ms"].items()) if ms >= 0.005)
        print(f"           CPU ms per request: {spent}")
    intake, trivial = results["intake"], results["trivial"]
    print(f"  intake / trivial: {intake['rps'] / trivial['rps']:.1%} of the rate")
    print(f"  {intake['acknowledged']:.0f} webhooks acknowledged (2 s warm-up included): {stored} messages stored, "
          f"{tasks} task records, {held} tasks held in Cloud Tasks")  # fmt: skip
    verdict = intake["p99"] < 25 and intake["rps"] >= 1000 and intake["rps"] >= 0.2 * trivial["rps"]
    print(f"  target (p99 < 25 ms, >= 1000 req/s, >= 20% of trivial): {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()

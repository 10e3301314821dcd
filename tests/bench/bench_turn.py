"""The message processor's own cost per turn, and its resident memory, in one run.

    uv run python tests/bench/bench_turn.py [--turns 200]

The processor runs as in its container (functions-framework, one worker) with DATABASE_URL / REDIS_URL when
set (a throwaway database and namespace), else embedded servers. The bench stores patient messages through the
real intake code (the turn tasks are held, not queued) and then POSTs each task to the processor, timing the
whole request: authentication, the task record, the lock, loading, retrieval in Chroma, the provider, the
commit of reply, call record and outcomes, WAHA's sendSeen and send (the WAHA emulator, typing pause 0).

Three runs, each against the same baseline measured first: a task that does nothing (the HTTP and task-record
floor).
  - gemini: the Gemini provider through google-genai against a zero-latency Gemini emulator (target p95 < 150 ms);
  - offline: the offline provider (embedding classifier + knowledge base);
  - offline, cached: the same questions again, answered from the response cache.
The response cache is off for the first two, so every turn makes its provider call. RSS is the processor's
worker after the runs (its peak, VmHWM, too).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import psutil
from bench_intake import bench_backends, serve  # same folder

from local.gemini_emulator import EmulatorServer as GeminiEmulator
from local.servers import free_port, stop_process
from local.waha_emulator import EmulatorServer as WahaEmulator
from shared.config import apply_environment
from shared.migrate import PROJECT_ROOT
from shared.queue import SECRET_HEADER, TASK_NAME_HEADER, Task
from shared.tasks.in_process import InProcessQueue
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.webhooks import parse_webhook

sys.path.insert(0, str(PROJECT_ROOT))
from tests.integration.assistant_support import message_event

SECRET = "bench-task-secret"
QUESTIONS = [
    "oi, qual o endereço de vocês?",
    "quanto custa a limpeza de pele?",
    "vocês aceitam unimed?",
    "como funciona o peeling?",
    "qual o horário de sábado?",
    "quero marcar uma consulta pra semana que vem",
    "boa tarde! tudo bem?",
    "o botox dói?",
    "qto custa o preenchimento labial",
    "tem estacionamento?",
]
ANSWER = {
    "reply": "O valor da limpeza de pele é R$ 180,00. 😊",
    "template": None,
    "intent": "price",
    "confidence": 0.92,
    "is_urgent": False,
    "urgency_reason": None,
    "maturity": {"score": 45, "engagement": "médio", "interest_clarity": "preço", "objections": []},
    "facts": {"name": None, "symptoms": [], "concerns": [], "preferences": []},
    "handoff": False,
    "handoff_reason": None,
}


class HeldQueue(InProcessQueue):
    """Records tasks (the outbox rows) and keeps them for the bench to deliver itself."""

    def __init__(self) -> None:
        super().__init__(inline=True)
        self.held: list[Task] = []

    def create_task(self, task: Task) -> bool:
        self.held.append(task)
        return True


def store_turns(count: int, label: str) -> list[Task]:
    """Patients' messages stored by the intake's code; their turn tasks, held."""
    queue = HeldQueue()
    for n in range(count):
        chat = f"55119{abs(hash(label)) % 1000:03d}{n:05d}@c.us"
        handle_webhook(parse_webhook(message_event(QUESTIONS[n % len(QUESTIONS)], chat)), queue=queue)
    return [task for task in queue.held if task.payload["kind"] == "process_message"]


def post(client: httpx.Client, url: str, task: Task) -> float:
    started = time.perf_counter()
    answer = client.post(
        url,
        content=task.body,
        headers={"Content-Type": "application/json", SECRET_HEADER: SECRET, TASK_NAME_HEADER: task.task_id},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"task answered {answer.status_code}: {answer.text[:300]}")
    return elapsed


def floor(client: httpx.Client, url: str, count: int) -> list[float]:
    return [
        post(client, url, Task.build("messages", "message_processor", {"kind": "bench_noop"})) for _ in range(count)
    ]


def describe(label: str, times: list[float], baseline: float) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    p50 = statistics.median(ordered)
    return (
        f"{label:28} n={len(times):4}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {ordered[-1]:7.1f} ms  "
        f"p50/floor {p50 / baseline:5.1f}x"
    )


def worker_memory(process: psutil.Process) -> tuple[float, float]:
    """(RSS, peak RSS) in MiB of the largest process of the processor's tree (its worker)."""
    tree = [process, *process.children(recursive=True)]
    rss = max(p.memory_info().rss for p in tree)
    peaks = []
    for p in tree:
        status = Path(f"/proc/{p.pid}/status").read_text()
        peaks.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) * 1024)
    return rss / 2**20, max(peaks) / 2**20


def run_processor(environment: dict[str, str], scratch: Path, label: str, turns: int, rounds: int = 1):
    port = free_port()
    process = serve(
        "message_processor",
        PROJECT_ROOT / "functions/message_processor/main.py",
        port,
        environment,
        scratch / f"processor-{label}.log",
    )
    url = f"http://127.0.0.1:{port}/tasks/message_processor"
    try:
        with httpx.Client(timeout=60) as client:
            baseline = statistics.median(floor(client, url, 50))
            post(client, url, store_turns(1, f"warm-{label}")[0])  # first turn loads the model and Chroma
            results = []
            for round_ in range(rounds):
                tasks = store_turns(turns, f"{label}-{round_}")
                results.append([post(client, url, task) for task in tasks])
            memory = worker_memory(psutil.Process(process.pid))
        return baseline, results, memory
    finally:
        stop_process(process, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulators would log every request
    with ExitStack() as cleanup:
        scratch, database_url, redis_url = bench_backends(cleanup)
        waha = cleanup.enter_context(
            WahaEmulator("127.0.0.1", 0, api_key="bench-waha", ack_delay=0.0, auto_scan_delay=0.0)
        )
        gemini = cleanup.enter_context(GeminiEmulator("127.0.0.1", 0))
        gemini.set_default(json=ANSWER)
        base = {
            "ENVIRONMENT": "local",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_NAMESPACE": f"clinicbot-bench-{uuid.uuid4().hex[:8]}",
            "TASK_AUTH_SECRET": SECRET,
            "WAHA_URL": waha.url,
            "WAHA_API_KEY": "bench-waha",
            "CHROMA_PERSIST_DIR": str(scratch / "chroma"),
            "DEBOUNCE_SECONDS": "0",
            "TYPING_SECONDS_PER_CHAR": "0",
            "LOG_LEVEL": "WARNING",
            "WORKERS": "1",
            "THREADS": "1",
            "LLM_DAILY_CALL_LIMIT": "100000",
        }
        apply_environment(base)
        from shared.knowledge.loading import ensure_knowledge_base

        ensure_knowledge_base(PROJECT_ROOT / "local/sample_kb.yaml")
        lines = []
        gemini_env = {
            **os.environ,
            **base,
            "ASSISTANT_PROVIDER": "gemini",
            "GOOGLE_API_KEY": "bench-key",
            "GEMINI_BASE_URL": gemini.url,
            "RESPONSE_CACHE_TTL_SECONDS": "0",
        }
        floor_ms, [times], memory = run_processor(gemini_env, scratch, "gemini", args.turns)
        lines += [
            f"{'floor (no-op task)':24} p50 {floor_ms:7.1f} ms",
            describe("gemini (0-latency emulator)", times, floor_ms),
            f"{'':24} worker RSS {memory[0]:.0f} MiB, peak {memory[1]:.0f} MiB",
        ]
        offline_env = {**os.environ, **base, "ASSISTANT_PROVIDER": "offline", "RESPONSE_CACHE_TTL_SECONDS": "0"}
        floor_ms, [cold], memory = run_processor(offline_env, scratch, "offline", args.turns)
        lines += [
            describe("offline", cold, floor_ms),
            f"{'':24} worker RSS {memory[0]:.0f} MiB, peak {memory[1]:.0f} MiB",
        ]
        cached_env = offline_env | {"RESPONSE_CACHE_TTL_SECONDS": "3600"}
        floor_ms, [_, cached], _ = run_processor(cached_env, scratch, "cached", args.turns, rounds=2)
        lines.append(describe("offline, cache warm", cached, floor_ms))
        print("\n".join(lines))


if __name__ == "__main__":
    main()

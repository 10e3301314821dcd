"""Inject-to-reply latency on `clinicbot local`, offline provider, debounce 0.

    uv run python tests/bench/bench_inject_to_reply.py [--messages 60]

Starts the whole local stack (Cloud Tasks emulator, every function behind its gateway, the WAHA emulator) on
DATABASE_URL / REDIS_URL when set (a throwaway database and namespace), else embedded servers, with
DEBOUNCE_SECONDS=0 and no typing pause. Each message comes from a new patient at the WAHA emulator
(`/_emulator/inbound`, signed webhook to the intake), one at a time; the clock stops when the emulator has the
reply (`/_emulator/outbound`, polled every 5 ms). The baseline, measured in the same run for every message, is
inject-to-stored: the moment its row is committed in Postgres (the intake's part of the path).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from local.servers import create_database, drop_database, free_port, stop_process
from shared.migrate import PROJECT_ROOT

QUESTIONS = [
    "oi, qual o endereço de vocês?", "quanto custa a limpeza de pele?", "vocês aceitam unimed?",
    "como funciona o peeling?", "qual o horário de sábado?", "quero marcar uma consulta pra semana que vem",
    "boa tarde! tudo bem?", "o botox dói?", "qto custa o preenchimento labial", "tem estacionamento?",
]  # fmt: skip
STRIPPED = (
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SECRET_KEY",
    "REDIS_NAMESPACE",
    "ENVIRONMENT",
    "WAHA_URL",
    "GOOGLE_API_KEY",
)


def start_stack(cleanup: ExitStack, scratch: Path) -> tuple[str, str | None]:
    """The stack's WAHA emulator URL and, when it runs on the machine's Postgres, the database URL."""
    environment = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    environment |= {"DEBOUNCE_SECONDS": "0", "TYPING_SECONDS_PER_CHAR": "0", "LOG_LEVEL": "WARNING"}
    database_url = None
    if os.environ.get("DATABASE_URL"):
        server = os.environ["DATABASE_URL"]
        name = f"clinicbot_bench_{uuid.uuid4().hex[:10]}"
        database_url = create_database(server, name)
        cleanup.callback(drop_database, server, name)
        environment |= {"DATABASE_URL": database_url}
    if os.environ.get("REDIS_URL"):
        environment |= {"REDIS_URL": os.environ["REDIS_URL"], "REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
    port, waha_port = free_port(), free_port()
    clinicbot = str(Path(sys.executable).parent / "clinicbot")
    log = (scratch / "stack.log").open("w")
    process = subprocess.Popen([clinicbot, "local", "--port", str(port), "--data-dir", str(scratch / "data"),
                                "--waha-port", str(waha_port)], env=environment, cwd=PROJECT_ROOT, stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip
    cleanup.callback(stop_process, process, timeout=30)
    deadline = time.monotonic() + 120
    while "ready; Ctrl-C" not in (scratch / "stack.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit("the stack did not start:\n" + (scratch / "stack.log").read_text())
        time.sleep(0.2)
    return f"http://127.0.0.1:{waha_port}", database_url


def one_message(client: httpx.Client, waha: str, engine, n: int) -> tuple[float, float]:
    chat = f"55119{n:08d}@c.us"
    started = time.perf_counter()
    client.post(
        f"{waha}/_emulator/inbound", json={"from": chat, "body": QUESTIONS[n % len(QUESTIONS)]}
    ).raise_for_status()
    stored = None
    while True:
        if stored is None and engine is not None:
            with engine.connect() as connection:
                found = connection.execute(text("SELECT 1 FROM conversations WHERE chat_id = :c"), {"c": chat}).first()
            stored = (time.perf_counter() - started) * 1000 if found else None
        if client.get(f"{waha}/_emulator/outbound", params={"chatId": chat}).json():
            return (time.perf_counter() - started) * 1000, stored or 0.0
        time.sleep(0.005)


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered):7.1f} ms  p95 {ordered[int(0.95 * (len(ordered) - 1))]:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args()
    with ExitStack() as cleanup:
        scratch = Path(tempfile.mkdtemp(prefix="clinicbot-bench-"))
        scratch.chmod(0o755)
        cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
        waha, database_url = start_stack(cleanup, scratch)
        engine = create_engine(database_url) if database_url else None
        with httpx.Client(timeout=30) as client:
            one_message(client, waha, engine, 10_000_000)  # the first turn loads the model, the classifier, Chroma
            results = [one_message(client, waha, engine, n) for n in range(args.messages)]
        replies = [reply for reply, _ in results]
        print(f"inject -> reply   n={len(replies)}  {percentiles(replies)}  (offline provider, debounce 0)")
        if engine is not None:
            stored = [stored for _, stored in results]
            print(f"inject -> stored  n={len(stored)}  {percentiles(stored)}  (baseline: the intake's part)")
            print(f"reply / stored    p50 {statistics.median(replies) / statistics.median(stored):.1f}x")
            engine.dispose()


if __name__ == "__main__":
    main()

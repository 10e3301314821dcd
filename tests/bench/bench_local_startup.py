"""How long `clinicbot local` takes to answer health 200 (the issue's budget: 60 s), and to stop on Ctrl-C.

    uv run python tests/bench/bench_local_startup.py [--runs 3]

Cold = a new, empty data folder (initdb, migrations, first admin); warm = the same folder again. Embedded
Postgres and Redis (no DATABASE_URL / REDIS_URL). Prints each figure and its ratio to the 60 s budget.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from local.servers import free_port

BUDGET_SECONDS = 60.0
CLINICBOT = str(Path(sys.executable).parent / "clinicbot")
STRIPPED = ("DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY", "REDIS_NAMESPACE", "ENVIRONMENT")


def one_run(data_dir: Path) -> tuple[float, float]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    started = time.monotonic()
    process = subprocess.Popen([CLINICBOT, "local", "--port", str(port), "--data-dir", str(data_dir)],
                               env=environment, cwd=data_dir.parent, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit("clinicbot local exited early")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        to_healthy = time.monotonic() - started
    finally:
        stop_started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(60)
    return to_healthy, time.monotonic() - stop_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    results: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="clinicbot-bench-"))
        folder.chmod(0o755)
        try:
            results["cold"].append(one_run(folder / "data"))
            results["warm"].append(one_run(folder / "data"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"clinicbot local, embedded servers, {runs} runs each (budget {BUDGET_SECONDS:g} s to health 200)")
    for kind, figures in results.items():
        healthy = statistics.median(f[0] for f in figures)
        stopped = statistics.median(f[1] for f in figures)
        worst = max(f[0] for f in figures)
        print(f"  {kind}: health 200 after {healthy:5.2f} s median, {worst:5.2f} s worst "
              f"({worst / BUDGET_SECONDS:.1%} of budget); Ctrl-C to exit {stopped:4.2f} s median")  # fmt: skip


if __name__ == "__main__":
    main()

"""The secretary API on a generated clinic of 1,000,000 messages in 100,000 conversations, in one run.

    uv run python tests/bench/bench_secretary_api.py [--conversations 100000] [--messages 1000000]
        [--requests 300] [--keep | --reuse DATABASE]

A throwaway database on DATABASE_URL's server (else an embedded Postgres) is migrated and filled by
`clinicbot generate-data`'s code (COPY, then VACUUM ANALYZE), then the API runs in this process (functions-framework's
app, Flask's test client: no network, so the figures are the API's own work: auth, validation, SQL, JSON) with a
real ADMIN token and the token of the generated secretary with the most conversations (a USER):
  - conversation list: varied filters, pages and page sizes, as ADMIN and as USER (target p95 < 50 ms);
  - message search: varied Portuguese terms and pages, as ADMIN and as USER (target p95 < 100 ms), and, as a
    baseline in the same run, the same searches with every match ranked (SEARCH_RANK_ALL_LIMIT out of reach);
  - CSV export of every conversation (100,000 rows): throughput, and peak memory against two baselines in the same
    run: the same streamed export of ~1,000 rows, and the 100,000 rows fetched at once into a list and written as
    CSV in memory (what an export without streaming would hold). Peak memory is tracemalloc's peak (Python
    allocations, measured in a second pass, since tracing slows Python down) and the growth of the process's peak
    RSS (VmHWM, reset through /proc/self/clear_refs before each export).
The database is dropped at the end unless --keep; --reuse runs against a database kept earlier (no generation).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import secrets
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import functions_framework
from bench_intake import backends  # same folder
from sqlalchemy import func, select

from local.servers import EmbeddedPostgres, create_database, drop_database
from shared.config import apply_environment, get_settings
from shared.conversations import export
from shared.conversations.models import Conversation
from shared.db import dispose_engines, get_engine, session_scope
from shared.devdata.generate import DEV_PASSWORD, generate_data
from shared.migrate import PROJECT_ROOT, upgrade_database
from shared.users.models import Role, User
from shared.users.schemas import UserCreate
from shared.users.service import create_user

ADMIN_PASSWORD = "bench-admin-password"
TERMS = (
    "implante", "dor", "unimed", "clareamento", "orçamento", "canal", "sábado", '"dor de dente"', "parcelar cartão",
    "bruxismo", "reembolso", "siso", "botox", "inchaço", "remarcar", "pix desconto", "carteirinha", "amil -unimed",
    "preenchimento labial", "harmonização", "sangrando", "avaliação", "encaixe urgência", "raio-x", "prótese",
)  # fmt: skip
STATUSES = ("ACTIVE", "AWAITING_RESPONSE", "WAITING_SECRETARY", "TRANSFERRED", "CLOSED")
NAMES = ("maria", "silva", "joão", "oliveira", "ana paula", "santos", "98765", "(11) 9123")


def list_params(rng: random.Random, admin_ids: list[str]) -> dict:
    """One listing as a secretary would ask for it: mostly the first pages, often one filter, sometimes two."""
    params: dict = {"page": rng.choice((1, 1, 1, 2, 3, 5, 10, 50)), "limit": rng.choice((20, 20, 50, 100))}
    for _ in range(rng.choice((0, 1, 1, 2))):
        kind = rng.choice(("status", "urgent", "unassigned", "assigned", "dates", "search"))
        if kind == "status":
            params["status"] = rng.choice(STATUSES)
        elif kind == "urgent":
            params["is_urgent"] = "true"
        elif kind == "unassigned":
            params["unassigned"] = rng.choice(("true", "false"))
        elif kind == "assigned":
            params["assigned_to"] = rng.choice(admin_ids)
        elif kind == "dates":
            params["date_from"] = f"2026-{rng.randint(6, 10):02d}-01T00:00:00-03:00"
        else:
            params["search"] = rng.choice(NAMES)
    return params


def timed(client, url: str, headers: dict, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers, query_string=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


def percentiles(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    return ordered[len(ordered) // 2], ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def run_requests(client, url: str, headers: dict, make_params: Callable[[], dict], count: int) -> list[float]:
    for _ in range(5):  # warm: the first requests pay for imports and plans
        timed(client, url, headers, make_params())
    return [timed(client, url, headers, make_params()) for _ in range(count)]


def peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)


def peak_rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def current_rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def measure(consume: Callable[[], int], trace: bool) -> tuple[int, float, float]:
    """(rows, seconds, MiB): tracemalloc's peak when `trace`, else the growth of peak RSS."""
    before = current_rss_mib()
    peak_rss_reset()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    rows = consume()
    seconds = time.perf_counter() - started
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return rows, seconds, peak
    return rows, seconds, peak_rss_mib() - before


def streamed_export(client, headers: dict, params: dict) -> Callable[[], int]:
    def consume() -> int:
        response = client.get("/api/v1/conversations/export", headers=headers, query_string=params)
        assert response.status_code == 200 and response.is_streamed, response.status_code
        lines = sum(chunk.count(b"\n") for chunk in response.response)
        response.close()
        return lines - 1  # the header

    return consume


def unstreamed_export() -> int:
    """The naive export: every row in one query (pg8000 holds the whole result), the CSV built in memory."""
    with session_scope() as session:
        statement = export._chunk([], None).limit(None)
        rows = session.execute(statement).all()
    buffer = io.StringIO()
    zone = export.ZoneInfo(get_settings().clinic_timezone)
    csv.writer(buffer).writerows(export._line(row, zone) for row in rows)
    assert buffer.tell() > 0
    return len(rows)


def login(client, email: str, password: str) -> dict:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def prepare(args: argparse.Namespace, cleanup: ExitStack) -> None:
    """Backends, the settings, and the database: generated, or reused."""
    scratch = Path(tempfile.mkdtemp(prefix="clinicbot-bench-"))
    scratch.chmod(0o755)  # an embedded Postgres runs as another user
    cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
    server_url, redis_url = backends(cleanup, scratch)
    if args.shared_buffers:  # a server sized like production's instead of DATABASE_URL's
        postgres = EmbeddedPostgres(scratch / "postgres-sized", durable=False,
                                    settings={"shared_buffers": args.shared_buffers})  # fmt: skip
        server_url = postgres.start()
        cleanup.callback(postgres.stop)
    with get_engine(server_url, autocommit=True).connect() as connection:
        print(f"server: shared_buffers={connection.exec_driver_sql('SHOW shared_buffers').scalar()}", file=sys.stderr)
    name = args.reuse or f"clinicbot_bench_api_{uuid.uuid4().hex[:8]}"
    database_url = create_database(server_url, name, exist_ok=bool(args.reuse))
    if not (args.keep or args.reuse):
        cleanup.callback(drop_database, server_url, name)
    cleanup.callback(dispose_engines)
    apply_environment({"ENVIRONMENT": "local", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
                       "REDIS_NAMESPACE": f"clinicbot-bench-{uuid.uuid4().hex[:8]}",
                       "JWT_SECRET_KEY": secrets.token_urlsafe(48), "API_RATE_LIMIT_PER_USER": "10000000",
                       "LOG_LEVEL": "WARNING"})  # fmt: skip
    upgrade_database(database_url)
    if not args.reuse:
        print(f"database {name}: generating {args.messages:,} messages in {args.conversations:,} conversations",
              file=sys.stderr)  # fmt: skip
        made = generate_data(args.conversations, args.messages, args.users, args.seed)
        print(f"generated in {made.seconds:.0f} s (COPY, then VACUUM ANALYZE)", file=sys.stderr)
    with get_engine(autocommit=True).connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    if args.keep:
        print(f"kept database {name} (--reuse {name})", file=sys.stderr)


def tokens(client) -> tuple[dict, dict, list[str]]:
    """An ADMIN's headers, the busiest secretary's headers, and the ids of every assignee."""
    email = f"bench-admin-{uuid.uuid4().hex[:6]}@clinica.dev"
    with session_scope() as session:
        create_user(session, UserCreate(email=email, full_name="Bench Admin", password=ADMIN_PASSWORD,
                                        role=Role.ADMIN), actor=None)  # fmt: skip
        busiest = session.execute(
            select(Conversation.assigned_to_user_id, func.count())
            .where(Conversation.assigned_to_user_id.is_not(None))
            .group_by(Conversation.assigned_to_user_id)
            .order_by(func.count().desc())
        ).all()
        secretary = session.get(User, busiest[0][0])
    return (
        login(client, email, ADMIN_PASSWORD),
        login(client, secretary.email, DEV_PASSWORD),
        [str(row[0]) for row in busiest],
    )


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The generated clinic's size and where it lives, as every bench on it takes them."""
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seed", type=int, default=165)
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--shared-buffers", help="run on an embedded Postgres with this shared_buffers (e.g. 1GB)")
    parser.add_argument("--reuse", metavar="DATABASE", help="a database kept by --keep: no generation")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="per scenario")
    args = parser.parse_args()
    with ExitStack() as cleanup:
        prepare(args, cleanup)
        app = functions_framework.create_app("secretary_api", str(PROJECT_ROOT / "functions/secretary_api/main.py"))
        client = app.test_client()
        admin, user, assignees = tokens(client)
        rng = random.Random(args.seed)
        lines = []
        for label, headers in (("ADMIN", admin), ("USER", user)):
            times = run_requests(client, "/api/v1/conversations", headers, lambda: list_params(rng, assignees),
                                 args.requests)  # fmt: skip
            lines.append((f"conversation list, {label}", times, 50))
        for label, headers in (("ADMIN", admin), ("USER", user)):
            times = run_requests(client, "/api/v1/conversations/search", headers,
                                 lambda: {"q": rng.choice(TERMS), "page": rng.choice((1, 1, 2, 3))},
                                 args.requests)  # fmt: skip
            lines.append((f"search, {label}", times, 100))
        # Baseline in the same run: every match of every term ranked (what a common term cost before the window).
        apply_environment({"SEARCH_RANK_ALL_LIMIT": str(10**12)})
        get_settings.cache_clear()
        rng = random.Random(args.seed)
        for label, headers in (("ADMIN", admin), ("USER", user)):
            times = run_requests(client, "/api/v1/conversations/search", headers,
                                 lambda: {"q": rng.choice(TERMS), "page": rng.choice((1, 1, 2, 3))},
                                 args.requests)  # fmt: skip
            lines.append((f"search all ranked, {label}", times, None))
        report_latency(lines)
        report_export(client, admin)


def report_latency(lines: list) -> None:
    print(f"\n{'scenario':28} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target p95':>11}")
    for label, times, target in lines:
        p50, p95, top = percentiles(times)
        goal = f"< {target} ms {'ok' if p95 < target else 'MISSED'}" if target else "(baseline)"
        print(f"{label:28} {len(times):5} {p50:8.1f} {p95:8.1f} {top:8.1f}  {goal}")


def report_export(client, admin: dict) -> None:
    with session_scope() as session:
        newest = session.scalar(select(func.max(Conversation.created_at)))
    day = newest.astimezone(export.ZoneInfo(get_settings().clinic_timezone)).date()
    small = {"start_date": str(day.replace(day=max(day.day - 2, 1))), "end_date": str(day)}
    runs = (
        ("export, streamed, all rows", streamed_export(client, admin, {})),
        ("export, streamed, ~1,000 rows", streamed_export(client, admin, small)),
        ("all rows in a list (no stream)", unstreamed_export),
    )
    print(f"\n{'CSV export':32} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'peak RSS +MiB':>14} {'tracemalloc MiB':>16}")
    for label, consume in runs:
        rows, seconds, rss = measure(consume, trace=False)
        _, _, traced = measure(consume, trace=True)
        print(f"{label:32} {rows:8,} {seconds:8.2f} {rows / seconds:8,.0f} {rss:14.1f} {traced:16.1f}")


if __name__ == "__main__":
    main()

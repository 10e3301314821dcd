"""The metrics API on a generated clinic of 1,000,000 messages in 100,000 conversations, in one run.

    uv run python tests/bench/bench_metrics.py [--conversations 100000] [--messages 1000000]
        [--requests 30] [--only PATH_PART] [--explain] [--keep | --reuse DATABASE]

The database is prepared exactly as bench_secretary_api.py does it (a throwaway database on DATABASE_URL's server,
else an embedded Postgres, filled by `clinicbot generate-data`'s code; --keep / --reuse DATABASE keep and reuse
it, and a database kept by either bench serves both). The metrics API runs in this process (functions-framework's
app, Flask's test client), with a real ADMIN token and the token of the generated secretary with the most
conversations (a USER, who logs in with generate-data's password):
  - every GET operation the metrics function owns in the merged OpenAPI document (so a route added later is
    measured without editing this file), but the SSE stream and the export: path parameters get the secretary's
    id, required query parameters their documented example or default, the period its default (the last 30
    days). Each endpoint, as ADMIN and as USER: `--requests` times "cold" (every metrics key in Redis deleted
    first: what the first request after new data pays) and, right after each, "cached" (the same request again).
    Targets: p95 < 150 ms cold, < 10 ms cached. An endpoint that answers an error is printed and skipped. For
    each one missing the cold target, the slowest SQL statement of one cold request (EXPLAIN ANALYZE with
    --explain);
  - "today within 10 s": a patient's message inserted into conversation_messages now (the triggers keep the
    rollups), then `message-volume` polled as ADMIN until its total includes it (the message is deleted again
    at the end, so a reused database stays as generated);
  - the rollup parity check (shared.metrics.rollups.check_rollups: hours, waits, mismatches, and its time), and the
    rollups' speed against the raw messages over the same 30 days, as the baseline: the day counts behind
    message-volume from the hourly rollup, from RAW_HOURLY over the period, and from the messages by an indexed
    created_at range; response-time's count, average, median and p95 from response_waits and from RAW_WAITS. Each
    pair must give the same figures;
  - the export (every GET the metrics function owns ending in /export), csv and xlsx, over the 30 days and over
    every day of data: bytes, rows, seconds, throughput, and peak memory as bench_secretary_api.py measures it
    (growth of peak RSS, and tracemalloc's peak in a second pass); constant memory shows as the same peak for both.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import functions_framework
from bench_secretary_api import add_dataset_arguments, measure, percentiles, prepare, timed, tokens  # same folder
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.engine import Engine

from shared import cache
from shared.clinic.service import get_clinic_settings
from shared.conversations.models import Conversation, ConversationMessage, MessageDirection, SenderKind
from shared.db import get_engine, session_scope
from shared.metrics.context import MetricsContext
from shared.metrics.counts import Counts, message_counts
from shared.metrics.period import MAX_DAYS, MetricsQuery, resolve_period
from shared.metrics.rollups import RAW_HOURLY, RAW_WAITS, check_rollups
from shared.migrate import PROJECT_ROOT
from shared.openapi import build_openapi_document
from shared.routing import owner_of

COLD_TARGET_MS, CACHED_TARGET_MS, TODAY_TARGET_S = 150, 10, 10
STREAM_PATH = "/api/v1/dashboard/stream"
VOLUME_PATH = "/api/v1/metrics/message-volume"
EXPORT_FORMATS = ("csv", "xlsx")


@dataclass
class Endpoint:
    template: str  # as the document names it
    path: str  # with the path parameters filled
    query: dict
    problem: str | None = None  # a parameter this bench cannot fill


@dataclass
class Result:
    label: str
    cold: list[float] = field(default_factory=list)
    cached: list[float] = field(default_factory=list)
    failure: str | None = None
    admin_only: bool = False  # 403 for a USER, naming the permission: as intended, not a failure
    statements: tuple[int, int] = (0, 0)  # SQL statements of one cold and one cached request


# --- endpoints from the OpenAPI document ------------------------------------------------------------------------


def metrics_gets() -> list[tuple[str, dict]]:
    """(path, operation) of every GET the metrics function owns, in the document's order."""
    paths = build_openapi_document()["paths"]
    owned = [(path, item["get"]) for path, item in paths.items() if "get" in item]
    return [(path, op) for path, op in owned if (owner := owner_of(path)) and owner.name == "metrics_api"]


def is_stream(path: str, operation: dict) -> bool:
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    return path == STREAM_PATH or "text/event-stream" in content


def documented_value(parameter: dict) -> object | None:
    """The value a required parameter documents for itself: its example, default or first choice."""
    schema = parameter.get("schema", {})
    for source in (parameter, schema):
        if "example" in source:
            return source["example"]
        if source.get("examples"):
            examples = source["examples"]
            return examples[0] if isinstance(examples, list) else next(iter(examples.values())).get("value")
    if "default" in schema:
        return schema["default"]
    return (schema.get("enum") or [None])[0]


def endpoint(path: str, operation: dict, secretary_id: str) -> Endpoint:
    """The path with its parameters filled, and the required query parameters."""
    template, query, problem = path, {}, None
    for parameter in operation.get("parameters", []):
        name, place = parameter["name"], parameter["in"]
        if place == "path":
            value = secretary_id if name == "user_id" else documented_value(parameter)
            path = path.replace("{" + name + "}", str(value))
            problem = problem or (None if value is not None else f"no value for path parameter {name}")
        elif place == "query" and parameter.get("required"):
            value = documented_value(parameter)
            query[name] = value
            problem = problem or (None if value is not None else f"no value for required {name}")
    return Endpoint(template, path, query, problem)


def discover(secretary_id: str) -> tuple[list[Endpoint], list[Endpoint]]:
    """The endpoints to time, and the exports."""
    timed_ones, exports = [], []
    for path, operation in metrics_gets():
        if is_stream(path, operation):
            continue
        (exports if path.endswith("/export") else timed_ones).append(endpoint(path, operation, secretary_id))
    return timed_ones, exports


# --- cold and cached --------------------------------------------------------------------------------------------


def flush_metrics_cache() -> int:
    """Delete every cached metrics answer, so the next request computes."""
    redis = cache.get_redis()
    keys = list(redis.scan_iter(cache.key("metrics", "*"), count=1000))
    return redis.delete(*keys) if keys else 0


def cold_and_cached(client, target: Endpoint, headers: dict, label: str, count: int) -> Result:
    result = Result(label)
    if target.problem:
        result.failure = target.problem
        return result
    try:
        for _ in range(2):  # warm: the first requests pay for imports and plans
            flush_metrics_cache()
            timed(client, target.path, headers, target.query)
        for _ in range(count):
            flush_metrics_cache()
            result.cold.append(timed(client, target.path, headers, target.query))
            result.cached.append(timed(client, target.path, headers, target.query))
        result.statements = statement_counts(client, target, headers)
    except Exception as exc:  # an endpoint being built answers 404/500: say so and go on
        result.failure = " ".join(str(exc).split())[:240]
        result.admin_only = "answered 403" in result.failure and "needs the permission" in result.failure
    return result


def statement_counts(client, target: Endpoint, headers: dict) -> tuple[int, int]:
    """How many SQL statements one cold request runs, and then one cached request."""
    counts = []
    flush_metrics_cache()
    for _ in range(2):
        with recorded_statements() as found:
            timed(client, target.path, headers, target.query)
        counts.append(len(found))
    return counts[0], counts[1]


def report_endpoints(results: list[Result]) -> list[Result]:
    """Print the table; return the results that missed the cold target."""
    print(f"\n{'endpoint':42} {'n':>3} {'cold p50':>9} {'cold p95':>9} {'cached p50':>11} {'cached p95':>11} "
          f"{'cold/cached':>12} {'SQL cold/cached':>16}  "
          f"targets p95 < {COLD_TARGET_MS} / < {CACHED_TARGET_MS} ms")  # fmt: skip
    missed = []
    for result in results:
        if result.admin_only:
            print(f"{result.label:42} 403 for a USER (ADMIN only), as intended")
            continue
        if result.failure:
            print(f"{result.label:42} FAILED: {result.failure}")
            continue
        cold50, cold95, _ = percentiles(result.cold)
        cached50, cached95, _ = percentiles(result.cached)
        checks = (("cold", cold95, COLD_TARGET_MS), ("cached", cached95, CACHED_TARGET_MS))
        verdict = [name for name, value, target in checks if value >= target]
        if "cold" in verdict:
            missed.append(result)
        sql = f"{result.statements[0]} / {result.statements[1]}"
        print(f"{result.label:42} {len(result.cold):3} {cold50:9.1f} {cold95:9.1f} {cached50:11.1f} {cached95:11.1f} "
              f"{cold50 / cached50:11.1f}x {sql:>16}  "
              f"{'MISSED ' + ', '.join(verdict) if verdict else 'ok'}")  # fmt: skip
    failed = sum(1 for result in results if result.failure and not result.admin_only)
    print(f"{len(results)} measured, {failed} failed, {len(missed)} over the cold target")
    return missed


# --- the slowest SQL of a cold request --------------------------------------------------------------------------


@contextmanager
def recorded_statements():
    """Every SQL statement run meanwhile, as (ms, statement, parameters)."""
    found: list[tuple[float, str, object]] = []

    def before(conn, _cursor, _statement, _parameters, _context, _many):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, _cursor, statement, parameters, _context, _many):
        found.append(((time.perf_counter() - conn.info["bench_started"].pop()) * 1000, statement, parameters))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)


def explain(statement: str, parameters: object) -> list[str]:
    with get_engine().connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).scalars().all()
        connection.rollback()
    return plan


def report_slowest_sql(client, missed: list[Result], targets: dict[str, tuple[Endpoint, dict]], plans: bool) -> None:
    for result in missed:
        target, headers = targets[result.label]
        flush_metrics_cache()
        with recorded_statements() as found:
            timed(client, target.path, headers, target.query)
        if not found:
            continue
        ms, statement, parameters = max(found, key=lambda item: item[0])
        total = sum(item[0] for item in found)
        print(f"\n{result.label}: {len(found)} statements, {total:.1f} ms in SQL; slowest {ms:.1f} ms:")
        print("    " + " ".join(statement.split())[:1200])
        print(f"    parameters: {parameters}")
        if plans and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            print("\n".join("    " + line for line in explain(statement, parameters)))


# --- a new message in today's numbers ---------------------------------------------------------------------------


def volume_total(client, headers: dict) -> int:
    response = client.get(VOLUME_PATH, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{VOLUME_PATH} answered {response.status_code}")
    return response.json["total"]


def insert_patient_message() -> uuid.UUID:
    """A patient's message, now, in the newest conversation (the triggers update the rollups)."""
    with session_scope() as session:
        conversation_id = session.scalar(select(Conversation.id).order_by(Conversation.created_at.desc()).limit(1))
        message = ConversationMessage(conversation_id=conversation_id, direction=MessageDirection.INBOUND,
                                      sender_kind=SenderKind.PATIENT, body="Oi, ainda tem horário hoje?",
                                      created_at=datetime.now(UTC))  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def seconds_until_seen(client, admin: dict, cleanup: ExitStack, limit_s: float = 30) -> float | None:
    """Seconds from the message's commit until message-volume counts it (None: not within `limit_s`)."""
    before = volume_total(client, admin)  # cached now: the worst case for a new message
    message_id = insert_patient_message()
    cleanup.callback(delete_message, message_id)
    committed = time.perf_counter()
    while time.perf_counter() - committed < limit_s:
        if volume_total(client, admin) > before:
            return time.perf_counter() - committed
        time.sleep(0.05)
    return None


def delete_message(message_id: uuid.UUID) -> None:
    with session_scope() as session:
        session.execute(delete(ConversationMessage).where(ConversationMessage.id == message_id))


def report_today(client, admin: dict, cleanup: ExitStack) -> None:
    try:
        seconds = seconds_until_seen(client, admin, cleanup)
    except Exception as exc:
        print(f"\ntoday within {TODAY_TARGET_S} s: FAILED: {' '.join(str(exc).split())[:240]}")
        return
    verdict = "not seen in 30 s: MISSED" if seconds is None else f"{seconds:.2f} s"
    ok = seconds is not None and seconds < TODAY_TARGET_S
    print(f"\nnew patient message in today's message-volume (ADMIN): {verdict}  target < {TODAY_TARGET_S} s "
          f"{'ok' if ok else 'MISSED'}")  # fmt: skip


# --- rollups: parity, and against the raw messages --------------------------------------------------------------

DAYS_FROM_RAW_HOURLY = f"""
SELECT date_trunc('day', h.hour AT TIME ZONE :zone) AS day, sum(h.patient_messages), sum(h.bot_messages),
       sum(h.secretary_messages)
FROM ({RAW_HOURLY}) h WHERE h.hour >= :start AND h.hour < :end GROUP BY 1
"""  # noqa: S608 (module constants)
DAYS_FROM_MESSAGES = """
SELECT date_trunc('day', m.created_at AT TIME ZONE :zone) AS day, count(*) FILTER (WHERE m.sender_kind = 'PATIENT'),
       count(*) FILTER (WHERE m.sender_kind = 'BOT'), count(*) FILTER (WHERE m.sender_kind = 'SECRETARY')
FROM conversation_messages m WHERE m.created_at >= :start AND m.created_at < :end GROUP BY 1
"""
WAIT_FIGURES = """
SELECT count(seconds), count(*) - count(seconds), round(avg(seconds), 3),
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3),
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds)::numeric, 3)
FROM (SELECT extract(epoch FROM w.ended_at - w.started_at) AS seconds FROM {source} w
      WHERE w.started_at >= :start AND w.started_at < :end) x
"""


def clinic_context(session) -> MetricsContext:
    """The whole clinic over the default period, as an ADMIN's request would see it."""
    settings, now = get_clinic_settings(session), datetime.now(UTC)
    return MetricsContext(resolve_period(MetricsQuery(), settings.timezone, now), None, settings, now)


def median_run(compute: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    """(median ms, the answer) over `runs` runs."""
    times, answer = [], None
    for _ in range(runs):
        started = time.perf_counter()
        answer = compute()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def raw_day_counts(session, ctx: MetricsContext, sql: str) -> dict[datetime, Counts]:
    rows = session.execute(text(sql), ctx.bounds()).all()
    return {day: Counts(int(patient), int(bot), int(secretary)) for day, patient, bot, secretary in rows}


def rollup_speed(session, ctx: MetricsContext) -> list[tuple[str, float, float, bool]]:
    """(label, ms, baseline ms, same answer) for each figure, rollup against raw."""
    lines = []
    # For the whole clinic in a whole-hour zone, message_counts() answers from metric_message_hourly.
    rollup_ms, days = median_run(lambda: message_counts(session, ctx, "day"))
    for label, sql in (("day counts: RAW_HOURLY over the period", DAYS_FROM_RAW_HOURLY),
                       ("day counts: messages, created_at range", DAYS_FROM_MESSAGES)):  # fmt: skip
        raw_ms, raw_days = median_run(lambda sql=sql: raw_day_counts(session, ctx, sql))
        lines.append((label, rollup_ms, raw_ms, raw_days == days))
    waits = WAIT_FIGURES.format(source="response_waits")
    raw_waits = WAIT_FIGURES.format(source=f"({RAW_WAITS})")
    waits_ms, figures = median_run(lambda: session.execute(text(waits), ctx.bounds()).one())
    raw_ms, raw_figures = median_run(lambda: session.execute(text(raw_waits), ctx.bounds()).one())
    answered, unanswered, average, median, p95 = figures
    label = f"waits ({answered:,} answered, {unanswered:,} not; avg {average}, median {median}, p95 {p95} s): RAW_WAITS"
    lines.append((label, waits_ms, raw_ms, tuple(figures) == tuple(raw_figures)))
    return lines


def report_rollups() -> None:
    with session_scope() as session:
        started = time.perf_counter()
        parity = check_rollups(session)
        seconds = time.perf_counter() - started
        print(f"\nrollup parity (check_rollups): {parity.hours:,} hours, {parity.waits:,} waits, "
              f"{parity.hourly_mismatches} hourly and {parity.wait_mismatches} wait mismatches: "
              f"{'exact' if parity.exact else 'NOT EXACT'}, in {seconds:.1f} s")  # fmt: skip
        ctx = clinic_context(session)
        print(f"\nrollups against the raw messages, {ctx.period.label()} ({ctx.period.zone_name}), median of 3")
        print(f"{'figure and baseline':96} {'rollup ms':>10} {'raw ms':>9} {'ratio':>7}  same answer")
        for label, rollup_ms, raw_ms, same in rollup_speed(session, ctx):
            print(f"{label:96} {rollup_ms:10.1f} {raw_ms:9.1f} {raw_ms / rollup_ms:6.1f}x  {'yes' if same else 'NO'}")


# --- exports ----------------------------------------------------------------------------------------------------


def export_download(client, url: str, headers: dict, params: dict, seen: dict) -> Callable[[], tuple[int, int]]:
    """A consumer for bench_secretary_api.measure: (bytes, newlines), the body read chunk by chunk."""

    def consume() -> tuple[int, int]:
        response = client.get(url, headers=headers, query_string=params)
        if response.status_code != 200:
            raise RuntimeError(f"answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        size = lines = 0
        for chunk in response.response:
            size, lines = size + len(chunk), lines + chunk.count(b"\n")
        seen["streamed"] = response.is_streamed
        response.close()
        return size, lines

    return consume


def xlsx_rows(client, url: str, headers: dict, params: dict) -> int | None:
    try:
        from openpyxl import load_workbook  # the test dependency group; only to count the rows afterwards
    except ImportError:
        return None
    body = client.get(url, headers=headers, query_string=params).get_data()
    book = load_workbook(io.BytesIO(body), read_only=True)
    return sum(sheet.max_row or 0 for sheet in book.worksheets)


def data_span() -> dict:
    """Every day that has messages, as far back as a period may reach."""
    with session_scope() as session:
        first = session.scalar(select(func.min(ConversationMessage.created_at)))
        zone = resolve_period(MetricsQuery(), get_clinic_settings(session).timezone).zone
    today = datetime.now(UTC).astimezone(zone).date()
    start = max((first or datetime.now(UTC)).astimezone(zone).date(), today - timedelta(days=MAX_DAYS - 1))
    return {"start_date": start.isoformat(), "end_date": today.isoformat()}


def report_exports(client, exports: list[Endpoint], admin: dict) -> None:
    if not exports:
        print("\nexport: no GET .../export in the metrics function's OpenAPI paths yet")
        return
    periods = (("30 days", {}), ("every day of data", data_span()))
    print(f"\n{'export (ADMIN)':44} {'bytes':>11} {'rows':>8} {'seconds':>8} {'MB/s':>7} {'rows/s':>8} "
          f"{'peak RSS +MiB':>14} {'tracemalloc MiB':>16} streamed")  # fmt: skip
    for target in exports:
        for fmt in EXPORT_FORMATS:
            for period_label, period in periods:
                report_export(client, target, admin, fmt, period_label, period)


def report_export(client, target: Endpoint, admin: dict, fmt: str, period_label: str, period: dict) -> None:
    label = f"{target.path.rsplit('/', 2)[-2]}/export {fmt}, {period_label}"
    params, seen = {**target.query, **period, "format": fmt}, {}
    consume = export_download(client, target.path, admin, params, seen)
    try:
        flush_metrics_cache()
        (size, lines), seconds, rss = measure(consume, trace=False)
        flush_metrics_cache()
        _, _, traced = measure(consume, trace=True)
        rows = lines - 1 if fmt == "csv" else xlsx_rows(client, target.path, admin, params)
    except Exception as exc:
        print(f"{label:44} FAILED: {' '.join(str(exc).split())[:200]}")
        return
    rate = f"{rows / seconds:8,.0f}" if rows is not None else f"{'?':>8}"
    print(f"{label:44} {size:11,} {rows if rows is not None else '?':>8} {seconds:8.2f} {size / seconds / 1e6:7.2f} "
          f"{rate} {rss:14.1f} {traced:16.1f} {'yes' if seen.get('streamed') else 'no'}")  # fmt: skip


# --- the run ----------------------------------------------------------------------------------------------------


def measure_endpoints(client, endpoints: list[Endpoint], roles: dict, count: int, only: str | None) -> tuple:
    """The results, and which request each label made (for the slowest-SQL pass)."""
    results, targets = [], {}
    for target in endpoints:
        if only and only not in target.path:
            continue
        for role, headers in roles.items():
            label = f"{target.template.removeprefix('/api/v1')} {role}"
            print(f"measuring {label}", file=sys.stderr)
            results.append(cold_and_cached(client, target, headers, label, count))
            targets[label] = (target, headers)
    return results, targets


def function_app(name: str):
    return functions_framework.create_app(name, str(PROJECT_ROOT / f"functions/{name}/main.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.add_argument("--requests", type=int, default=30, help="cold requests (and as many cached) per endpoint")
    parser.add_argument("--only", help="measure only the endpoints whose path contains this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest SQL of a missed target")
    args = parser.parse_args()
    with ExitStack() as cleanup:
        prepare(args, cleanup)
        admin, user, assignees = tokens(function_app("secretary_api").test_client())
        client = function_app("metrics_api").test_client()
        endpoints, exports = discover(assignees[0])
        print(f"{len(endpoints)} metrics endpoints, {len(exports)} export(s) in the OpenAPI document", file=sys.stderr)
        results, targets = measure_endpoints(client, endpoints, {"ADMIN": admin, "USER": user}, args.requests,
                                             args.only)  # fmt: skip
        missed = report_endpoints(results)
        report_slowest_sql(client, missed, targets, args.explain)
        report_today(client, admin, cleanup)
        report_rollups()
        report_exports(client, [e for e in exports if not args.only or args.only in e.path], admin)


if __name__ == "__main__":
    main()

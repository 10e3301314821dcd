"""Every dashboard metric as a file (card 139), CSV or XLSX, for the caller's scope and period.

Laid out as a clinic owner opens it in Excel, in Portuguese:
- a heading: the period, the zone, the scope (the whole clinic, or the secretary's name) and when it was made;
- "Resumo": one row per metric (Métrica, Valor, Período anterior, Variação (%)), each value the one its JSON
  endpoint answers (dashboard/summary, conversion-rate, response-time, sla-compliance, nps); the figures of "now"
  come last, without a previous;
- "Por dia": one row per day of the period in the zone: patients' messages, ours (bot and secretaries), leads
  created that day, leads converted that day (`converted_at`, so their sum may differ from the Resumo's converted
  leads, which are the period's leads that converted), and the mean response time of the waits that started that
  day (response-time's `avg_seconds` over that one day).
CSV: UTF-8 with a BOM, the sections one under the other with a blank line between; `separator=semicolon` suits
Excel in Portuguese, which then also wants the decimal comma. XLSX: a sheet per section, days as dates, written by
xlsxwriter in constant_memory mode into a temporary file that is streamed in chunks, then removed. Both are
produced a chunk of days at a time. Text cells go through the conversations export's formula neutraliser. Each
export is audited with its parameters (no patient data); its id comes back in X-Export-ID.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shared.audit.service import record_audit
from shared.auth import Principal
from shared.conversations.export import BOM, SEPARATORS, csv_text, escape_cell
from shared.db import session_scope
from shared.metrics import leads, quality, response, summary
from shared.metrics.answers import kpi_answer
from shared.metrics.context import MetricsContext, metrics_context
from shared.metrics.counts import message_counts
from shared.metrics.period import MetricsQuery, Period
from shared.users.models import User

DAYS_PER_CHUNK = 92
FILE_CHUNK_BYTES = 64 * 1024
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SUMMARY_HEADER = ("Métrica", "Valor", "Período anterior", "Variação (%)")
DAILY_HEADER = ("Data", "Mensagens de pacientes", "Nossas mensagens", "Novos leads", "Conversões",
                "Tempo médio de resposta (s)")  # fmt: skip
# (label, the answer it comes from, its field); the last three are "now" and have no previous
SUMMARY_ROWS = (
    ("Conversas ativas", "summary", "active_conversations"),
    ("Mensagens de pacientes", "summary", "patient_messages"),
    ("Novos leads", "conversion", "total_leads"),
    ("Leads convertidos", "conversion", "converted"),
    ("Taxa de conversão (%)", "conversion", "conversion_rate"),
    ("Tempo médio de resposta (s)", "response", "avg_seconds"),
    ("Tempo mediano de resposta (s)", "response", "median_seconds"),
    ("Tempo de resposta p95 (s)", "response", "p95_seconds"),
    ("Respostas dentro do SLA (%)", "sla", "compliance_rate"),
    ("NPS", "nps", "nps"),
    ("Avaliações recebidas", "nps", "responses"),
    ("Novos leads hoje", "summary", "new_leads_today"),
    ("Conversas aguardando secretária agora", "summary", "waiting_secretary"),
    ("Conversas urgentes em aberto agora", "summary", "urgent_open"),
)
SOURCES = {"summary": summary.summary, "conversion": leads.conversion, "response": response.response_time,
           "sla": response.sla_compliance, "nps": quality.nps}  # fmt: skip
_LEADS_BY_DAY = """
SELECT day, sum(created), sum(converted) FROM (
    SELECT (l.created_at AT TIME ZONE :zone)::date AS day, 1 AS created, 0 AS converted FROM leads l
    WHERE {scope} AND l.created_at >= :start AND l.created_at < :end
    UNION ALL
    SELECT (l.converted_at AT TIME ZONE :zone)::date, 0, 1 FROM leads l
    WHERE {scope} AND l.converted_at >= :start AND l.converted_at < :end
) d GROUP BY day
"""


class MetricsExportQuery(MetricsQuery):
    format: Literal["csv", "xlsx"] = Field(default="csv", description="csv (UTF-8 with BOM) or xlsx")
    separator: Literal["comma", "semicolon"] = Field(
        default="comma", description="CSV only: semicolon (with the decimal comma) suits Excel in Portuguese"
    )


@dataclass(frozen=True)
class MetricsExport:
    ctx: MetricsContext
    export_id: uuid.UUID
    format: Literal["csv", "xlsx"]
    separator: Literal["comma", "semicolon"]
    scope_name: str

    @property
    def filename(self) -> str:
        period = self.ctx.period
        return f"metricas-{period.first_day.isoformat()}-a-{period.last_day.isoformat()}.{self.format}"


def start_export(session: Session, actor: Principal, query: MetricsExportQuery) -> MetricsExport:
    """Check the scope and record the export (its parameters only); the file is produced as it is read."""
    ctx = metrics_context(session, actor, query)
    export_id = uuid.uuid4()
    parameters = {**query.model_dump(mode="json", exclude_none=True), "start_date": ctx.period.first_day.isoformat(),
                  "end_date": ctx.period.last_day.isoformat(), "tz": ctx.period.zone_name,
                  "user_id": str(ctx.user_id) if ctx.user_id else None}  # fmt: skip
    record_audit(session, actor, "metrics.exported", "metrics_export", export_id, after=parameters)
    name = "Clínica inteira"
    if ctx.user_id is not None:
        name = session.scalar(select(User.full_name).where(User.id == ctx.user_id)) or str(ctx.user_id)
    return MetricsExport(ctx, export_id, query.format, query.separator, name)


def heading_rows(job: MetricsExport) -> list[list[Any]]:
    period, zone = job.ctx.period, job.ctx.period.zone
    return [["Relatório de métricas"],
            ["Período", f"{period.first_day.strftime('%d/%m/%Y')} a {period.last_day.strftime('%d/%m/%Y')}"],
            ["Fuso horário", period.zone_name], ["Escopo", job.scope_name],
            ["Gerado em", job.ctx.now.astimezone(zone).strftime("%d/%m/%Y %H:%M")]]  # fmt: skip


def summary_rows(session: Session, ctx: MetricsContext) -> list[list[Any]]:
    """Metric, value, previous and delta, from the same answers the JSON endpoints give."""
    answers = {name: kpi_answer(session, ctx, compute) for name, compute in SOURCES.items()}
    return [[label, answers[source].get(field), answers[source]["previous"].get(field),
             answers[source]["delta_pct"].get(field)] for label, source, field in SUMMARY_ROWS]  # fmt: skip


def _day_chunks(period: Period) -> Iterator[Period]:
    first = period.first_day
    while first <= period.last_day:
        last = min(first + timedelta(days=DAYS_PER_CHUNK - 1), period.last_day)
        yield Period(first, last, period.zone)
        first = last + timedelta(days=1)


def _waits_by_day(session: Session, ctx: MetricsContext) -> dict[date, response.WaitStats]:
    return response.wait_stats_by_day(session, ctx, response.COUNTS)  # the days' means only


def _daily_chunk(session: Session, ctx: MetricsContext) -> list[list[Any]]:
    counts = {start.date(): found for start, found in message_counts(session, ctx, "day").items()}
    sql = _LEADS_BY_DAY.format(scope=ctx.lead_scope("l"))
    lead_days = {day: (int(made), int(won)) for day, made, won in session.execute(text(sql), ctx.bounds())}
    waits = _waits_by_day(session, ctx)
    rows = []
    for day in ctx.period.each_day():
        found, (made, won) = counts.get(day), lead_days.get(day, (0, 0))
        mean = waits[day].wall.figures()["avg_seconds"] if day in waits else None
        rows.append([day, found.patient if found else 0, found.ours if found else 0, made, won, mean])
    return rows


def daily_chunks(ctx: MetricsContext) -> Iterator[list[list[Any]]]:
    """The period's days in order, a chunk of days at a time, each read in its own short session."""
    for chunk in _day_chunks(ctx.period):
        with session_scope() as session:
            rows = _daily_chunk(session, ctx.with_period(chunk))
        yield rows


def _csv_value(value: Any, decimal_mark: str) -> Any:
    if isinstance(value, str):
        return escape_cell(value)
    if isinstance(value, float):
        return str(value).replace(".", decimal_mark)
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_file(job: MetricsExport) -> Iterator[bytes]:
    """The CSV, BOM and heading first; "Por dia" a chunk of days at a time."""
    delimiter = SEPARATORS[job.separator]
    decimal_mark = "," if delimiter == ";" else "."

    def lines(rows) -> bytes:
        return csv_text(([_csv_value(value, decimal_mark) for value in row] for row in rows), delimiter).encode()

    with session_scope() as session:
        summary_part = summary_rows(session, job.ctx)
    yield BOM.encode() + lines([*heading_rows(job), [], ["Resumo"], SUMMARY_HEADER, *summary_part, [], ["Por dia"],
                                DAILY_HEADER])  # fmt: skip
    for rows in daily_chunks(job.ctx):
        yield lines(rows)


def _write_row(sheet, row_number: int, values: list[Any], formats: dict[str, Any], bold: bool = False) -> None:
    for column, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, str):
            sheet.write_string(row_number, column, escape_cell(value), formats["bold"] if bold else None)
        elif isinstance(value, date):
            sheet.write_datetime(row_number, column, value, formats["date"])
        else:
            sheet.write_number(row_number, column, value)


def _write_workbook(job: MetricsExport, path: str) -> None:
    import xlsxwriter  # only the export needs it

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    formats = {"bold": workbook.add_format({"bold": True}), "date": workbook.add_format({"num_format": "dd/mm/yyyy"})}
    resumo = workbook.add_worksheet("Resumo")
    resumo.set_column(0, 0, 40)
    resumo.set_column(1, 3, 18)
    heading = heading_rows(job)
    with session_scope() as session:
        rows = [*heading, [], list(SUMMARY_HEADER), *summary_rows(session, job.ctx)]
    for number, row in enumerate(rows):
        _write_row(resumo, number, row, formats, bold=number in (0, len(heading) + 1))
    days = workbook.add_worksheet("Por dia")
    days.set_column(0, 5, 18)
    _write_row(days, 0, list(DAILY_HEADER), formats, bold=True)
    number = 0
    for chunk in daily_chunks(job.ctx):
        for row in chunk:
            number += 1
            _write_row(days, number, row, formats)
    workbook.close()


def xlsx_file(job: MetricsExport) -> Iterator[bytes]:
    """The workbook, written to a temporary file and streamed from it in chunks."""
    handle, path = tempfile.mkstemp(prefix="clinicbot-metrics-", suffix=".xlsx")
    os.close(handle)
    try:
        _write_workbook(job, path)
        with open(path, "rb") as file:
            while chunk := file.read(FILE_CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


def export_file(job: MetricsExport) -> Iterator[bytes]:
    return csv_file(job) if job.format == "csv" else xlsx_file(job)

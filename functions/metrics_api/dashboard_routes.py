"""The dashboard's summary, the comparison of two periods and the metrics export (cards 126, 140, 139)."""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi
from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED
from shared.metrics import compare, export, summary
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint(
    "metrics_dashboard", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="metrics")], abp_security=SECURED
)
EXPORT_RESPONSE = {
    "description": "the file, streamed: CSV (UTF-8 with BOM) or XLSX (sheets Resumo and Por dia)",
    "content": {
        "text/csv": {"schema": {"type": "string"}, "example": "\ufeffRelatório de métricas\r\n..."},
        export.MIMETYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    },
}


@api.get("/dashboard/summary", responses={200: summary.SummaryOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_dashboard_summary(query: MetricsQuery):
    """The dashboard's cards: active conversations, today's leads, conversion, response time and more (card 126)."""
    return answer_kpi("dashboard-summary", query, summary.summary)


@api.get("/metrics/compare", responses={200: compare.CompareOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_comparison(query: compare.CompareQuery):
    """The same figures over two periods, their change in % and whether it is an improvement (card 140)."""
    with session_scope() as session:
        return compare.compare_answer(session, current_principal(), query)


@api.get("/metrics/export", responses={200: EXPORT_RESPONSE, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def export_metrics(query: export.MetricsExportQuery):
    """Download every dashboard metric of the period as CSV or XLSX: a summary and one row per day (card 139).

    A USER gets her own numbers. Audited with the parameters; the audit entry's id comes back in `X-Export-ID`.
    """
    with session_scope() as session:
        job = export.start_export(session, current_principal(), query)
    headers = {"Content-Disposition": f'attachment; filename="{job.filename}"', "X-Export-ID": str(job.export_id),
               "Cache-Control": "no-store"}  # fmt: skip
    return Response(export.export_file(job), mimetype=export.MIMETYPES[job.format], headers=headers)

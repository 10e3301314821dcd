"""The one way a metrics route answers: context from the request, then the cached KPI or series answer."""

from __future__ import annotations

from collections.abc import Callable

from shared.auth import current_principal
from shared.db import session_scope
from shared.http import error_responses
from shared.metrics.answers import cached, kpi_answer, series_answer
from shared.metrics.context import metrics_context
from shared.metrics.period import MetricsQuery

METRIC_ERRORS = error_responses(401, 403, 404, 422)


def answer_kpi(name: str, query: MetricsQuery, compute: Callable) -> dict:
    """A KPI with the previous period and deltas."""
    with session_scope() as session:
        ctx = metrics_context(session, current_principal(), query)
        return cached(name, ctx, query.model_dump(mode="json"), lambda: kpi_answer(session, ctx, compute))


def answer_series(name: str, query: MetricsQuery, compute: Callable) -> dict:
    """A series, a distribution or a ranking over the period."""
    with session_scope() as session:
        ctx = metrics_context(session, current_principal(), query)
        return cached(name, ctx, query.model_dump(mode="json"), lambda: series_answer(session, ctx, compute))

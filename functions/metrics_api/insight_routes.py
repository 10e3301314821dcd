"""Anomalies and the demand forecast (cards 142, 143): each reads its own days from the query."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS
from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED
from shared.metrics import anomalies, forecast
from shared.metrics.answers import cached, series_answer
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint("metrics_insight", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


def _answer(name: str, query: MetricsQuery, context: Callable, compute: Callable) -> dict:
    """Like answer_series, over the days `context` reads from the query rather than its period."""
    with session_scope() as session:
        ctx = context(session, current_principal(), query)
        return cached(name, ctx, query.model_dump(mode="json"), lambda: series_answer(session, ctx, compute))


@api.get("/alerts/anomalies", responses={200: anomalies.AnomaliesOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_BUSINESS_METRICS)
def get_anomalies(query: anomalies.AnomaliesQuery):
    """A day's metrics against the same weekday of the previous 4 weeks; beyond 30 % is an anomaly (card 142)."""
    return _answer("anomalies", query, anomalies.anomaly_context, anomalies.anomaly_report)


@api.get("/metrics/forecast", responses={200: forecast.ForecastOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_forecast(query: forecast.ForecastQuery):
    """Patients' messages per day ahead, Holt-Winters with weekly seasonality, 80 % interval, backtest (card 143)."""
    return _answer("forecast", query, forecast.forecast_context, partial(forecast.forecast, query=query))

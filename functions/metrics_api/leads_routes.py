"""Leads: conversion, funnel, sources, retention, maturity and abandonment (cards 129, 131, 135, 137, 151, 152)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi, answer_series
from shared.auth import require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import leads
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint("metrics_leads", __name__, url_prefix=f"{API_PREFIX}/metrics", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/conversion-rate", responses={200: leads.ConversionOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_conversion_rate(query: MetricsQuery):
    """Leads created in the period, the converted ones and the rate, with every status's count (card 129)."""
    return answer_kpi("conversion-rate", query, leads.conversion)


@api.get("/funnel", responses={200: leads.FunnelOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_funnel(query: MetricsQuery):
    """Conversations started, leads created, qualified, converted, with the drop-off at each stage (card 131)."""
    return answer_series("funnel", query, leads.funnel)


@api.get("/leads-by-source", responses={200: leads.SourcesOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_leads_by_source(query: MetricsQuery):
    """Leads, conversions and conversion rate per source, every source (card 135)."""
    return answer_series("leads-by-source", query, leads.leads_by_source)


@api.get("/lead-retention", responses={200: leads.RetentionOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_lead_retention(query: MetricsQuery):
    """Leads whose patient wrote again a day or more after the first message, with weekly cohorts (card 137)."""
    return answer_kpi("lead-retention", query, leads.retention)


@api.get("/maturity-distribution", responses={200: leads.MaturityOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_maturity_distribution(query: MetricsQuery):
    """The period's leads per maturity-score range, and their average (card 151)."""
    return answer_series("maturity-distribution", query, leads.maturity_distribution)


@api.get("/abandonment-rate", responses={200: leads.AbandonmentOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_abandonment_rate(query: MetricsQuery):
    """Conversations whose patient left our last message unanswered for over 72 h, and at which stage (card 152)."""
    return answer_kpi("abandonment-rate", query, leads.abandonment)

"""Response time, SLA compliance and the bot's share of answers (cards 130, 138, 133)."""

from __future__ import annotations

from functools import partial

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi
from shared.auth import require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import response
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint("metrics_response", __name__, url_prefix=f"{API_PREFIX}/metrics", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/response-time", responses={200: response.ResponseTimeOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_response_time(query: response.ResponderQuery):
    """Average, median and p95 time to answer a patient, first responses and business hours (card 130)."""
    return answer_kpi("response-time", query, partial(response.response_time, responder=query.responder))


@api.get("/sla-compliance", responses={200: response.SlaComplianceOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_sla_compliance(query: response.ResponderQuery):
    """Patients answered within the clinic's SLA, in elapsed and in business time (card 138)."""
    return answer_kpi("sla-compliance", query, partial(response.sla_compliance, responder=query.responder))


@api.get("/bot-response-rate", responses={200: response.BotResponseRateOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_bot_response_rate(query: MetricsQuery):
    """Waits the bot answered against those handed to a secretary (card 133)."""
    return answer_kpi("bot-response-rate", query, response.bot_response_rate)

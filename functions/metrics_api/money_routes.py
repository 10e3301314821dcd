"""Money: cost per lead, ROI and lifetime value (cards 136, 144, 154); ADMIN only (VIEW_BUSINESS_METRICS)."""

from __future__ import annotations

from functools import partial

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi
from shared.auth import require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import money
from shared.users.permissions import Permission

api = APIBlueprint("metrics_money", __name__, url_prefix=f"{API_PREFIX}/metrics", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/cost-per-lead", responses={200: money.CostPerLeadOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_BUSINESS_METRICS)
def get_cost_per_lead(query: money.CostPerLeadQuery):
    """The period's operational cost (monthly x days / 30) per converted lead, against the previous one (card 136)."""
    return answer_kpi("cost-per-lead", query, partial(money.cost_per_lead, query=query))


@api.get("/roi", responses={200: money.RoiOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_BUSINESS_METRICS)
def get_roi(query: money.RoiQuery):
    """Secretary time the bot's answers saved, against its running cost, and the implementation's payback (card 144)."""
    return answer_kpi("roi", query, partial(money.roi, query=query))


@api.get("/ltv", responses={200: money.LtvOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_BUSINESS_METRICS)
def get_ltv(query: money.LtvQuery):
    """A lead's value: average ticket x conversion x retention, overall and per source (card 154)."""
    return answer_kpi("ltv", query, partial(money.ltv, query=query))

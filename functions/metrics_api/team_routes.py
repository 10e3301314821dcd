"""A secretary's numbers, the productivity report and the leaderboard (cards 127, 125, 141)."""

from __future__ import annotations

import uuid
from functools import partial

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi, answer_series
from shared.auth import current_principal, require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import team
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint(
    "metrics_team", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="metrics")], abp_security=SECURED
)


class UserPath(BaseModel):
    user_id: uuid.UUID


@api.get("/metrics/my", responses={200: team.UserKpiOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_my_metrics(query: MetricsQuery):
    """The caller's own numbers (card 127); `user_id`, when given, works as in `/metrics/user/{user_id}`."""
    scoped = query if query.user_id else query.model_copy(update={"user_id": current_principal().user_id})
    return answer_kpi("user-kpi", scoped, team.user_kpi)


@api.get("/metrics/user/<uuid:user_id>", responses={200: team.UserKpiOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_user_metrics(path: UserPath, query: MetricsQuery):
    """One user's numbers (card 127): an ADMIN's of anyone (404 if unknown), a USER's only her own (403 otherwise).

    The path names the user; a `user_id` in the query is ignored.
    """
    return answer_kpi("user-kpi", query.model_copy(update={"user_id": path.user_id}), team.user_kpi)


@api.get("/reports/productivity", responses={200: team.ProductivityOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_productivity(query: MetricsQuery):
    """Messages sent, leads converted and response time with a weekly trend (card 125); an ADMIN without
    `user_id` gets the team's totals and a row per active secretary."""
    return answer_series("productivity", query, team.productivity)


@api.get("/metrics/leaderboard", responses={200: team.LeaderboardOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_BUSINESS_METRICS)
def get_leaderboard(query: team.LeaderboardQuery):
    """The top 10 secretaries by a weighted score of conversions, response time and satisfaction (card 141)."""
    return answer_series("leaderboard", query, partial(team.leaderboard, query=query))

"""Satisfaction, sentiment, topics, competitors and the assistant's cost (cards 134, 147, 148, 149, 153)."""

from __future__ import annotations

from functools import partial

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_kpi, answer_series
from shared.auth import require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import quality
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint("metrics_quality", __name__, url_prefix=f"{API_PREFIX}/metrics", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/nps", responses={200: quality.NpsOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_nps(query: MetricsQuery):
    """Net Promoter Score of the feedback given in the period: promoters 9-10, detractors 0-6 (card 134)."""
    return answer_kpi("nps", query, quality.nps)


@api.get("/sentiment", responses={200: quality.SentimentOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_sentiment(query: MetricsQuery):
    """The patients' sentiment per turn, in total and per day (card 148)."""
    return answer_kpi("sentiment", query, quality.sentiment)


@api.get("/topics", responses={200: quality.TopicsOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_topics(query: quality.TopicsQuery):
    """The topics and intents the period's turns named, most frequent first (card 149)."""
    return answer_series("topics", query, partial(quality.topics, query=query))


@api.get("/competitor-mentions", responses={200: quality.CompetitorsOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_competitor_mentions(query: MetricsQuery):
    """Mentions of each competitor in the clinic settings, zeros included (card 153)."""
    return answer_series("competitor-mentions", query, quality.competitor_mentions)


@api.get("/ai", responses={200: quality.AiOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_ai(query: MetricsQuery):
    """The assistant's model calls: tokens, cost, latency, errors, per provider and prompt version (card 147)."""
    return answer_kpi("ai", query, quality.ai_usage)

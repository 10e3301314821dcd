"""/api/v1/ai: what the assistant's model calls cost and how they went (cards 091, 095, 147) (ADMIN by default)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.assistant import response_cache
from shared.assistant.stats import AIStatsOut, AIStatsQuery, ai_stats
from shared.auth import require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users.permissions import Permission

api = APIBlueprint("ai", __name__, url_prefix=f"{API_PREFIX}/ai", abp_tags=[Tag(name="ai")], abp_security=SECURED)


@api.get("/stats", responses={200: AIStatsOut, **error_responses(401, 403, 422)})
@require_permission(Permission.VIEW_AI_STATS)
def get_ai_stats(query: AIStatsQuery):
    """Model calls, errors, tokens, cost and latency (mean, p95) in total, per prompt version and per provider
    and model, for `date_from` <= created_at < `date_to` (default: the last 30 days); and the response cache's
    hits and misses (all time; null when Redis is unavailable)."""
    with session_scope() as session:
        return ai_stats(session, query, response_cache.stats).model_dump(mode="json")

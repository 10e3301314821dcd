"""The live dashboard's synchronous routes (card 145): the stream ticket and the polling fallback.

The stream itself, `GET /api/v1/dashboard/stream`, is its own async function (functions/metrics_stream), so that
an open stream holds no worker of this one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS
from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.metrics.live_access import issue_ticket
from shared.metrics.live_poll import poll_live
from shared.metrics.live_schemas import LiveOut, LiveQuery, StreamTicketOut
from shared.users.permissions import Permission

api = APIBlueprint("metrics_live", __name__, url_prefix=f"{API_PREFIX}/dashboard", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.post("/stream-ticket", responses={200: StreamTicketOut, **error_responses(401, 403, 503)})
@require_permission(Permission.VIEW_METRICS)
def post_stream_ticket():
    """A ticket that opens the live stream once, within 60 s: EventSource cannot send Authorization."""
    issued = issue_ticket(current_principal())
    stream_url = f"{API_PREFIX}/dashboard/stream?{urlencode({'ticket': issued.ticket})}"
    return StreamTicketOut(ticket=issued.ticket, expires_in=issued.expires_in, stream_url=stream_url).model_dump()


@api.get("/live", responses={200: LiveOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_live(query: LiveQuery):
    """Today's numbers and the events since `since`, for clients that cannot keep the stream open (card 145)."""
    with session_scope() as session:
        return poll_live(session, current_principal(), query)

"""The stream's route as the OpenAPI document shows it.

The stream is served by main.py's async entry point (Starlette), which flask-openapi3 cannot describe; this app
describes the same route from the same pydantic models the entry point validates with, so that the stream joins the
one document like every other function's routes. Its view never serves: the routing table sends the path to
main.py, in production and in the local gateway alike.
"""

from __future__ import annotations

from functools import cache

from flask_openapi3 import APIBlueprint, OpenAPI, Tag

from shared.errors import NotFound
from shared.http import API_PREFIX, SECURED, create_api, error_responses
from shared.metrics.live_schemas import DocumentedStreamQuery, StreamHeaders

EXAMPLE = """retry: 3000

id: 1764514800000-0
event: kpi
data: {"date":"2026-11-30","tz":"America/Sao_Paulo","user_id":null,"as_of":"2026-11-30T15:00:00+00:00",\
"patient_messages_today":184,"new_leads_today":12,"conversions_today":3,"waiting_conversations":4}

id: 1764514812345-0
event: message.received
data: {"conversation_id":"3f0c2a9e-6d8b-4b1e-9a57-1c2d3e4f5a6b","message_id":"8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",\
"kind":"TEXT","at":"2026-11-30T15:00:12+00:00"}

: heartbeat

"""
STREAM_ANSWER = {
    "description": "Server-Sent Events until STREAM_MAX_SECONDS, then a clean end: reconnect with Last-Event-ID",
    "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EXAMPLE}},
}

api = APIBlueprint("metrics_stream", __name__, url_prefix=f"{API_PREFIX}/dashboard", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/stream", responses={200: STREAM_ANSWER, **error_responses(401, 403, 404, 422, 503)})
def get_stream(query: DocumentedStreamQuery, header: StreamHeaders):
    """The live dashboard as Server-Sent Events (card 145); needs VIEW_METRICS.

    Events: message.received, lead.created, lead.converted, conversation.status, and a kpi tick (today's numbers,
    at most one a second, after something the caller sees).

    Each event has an `id:`; a reconnect with `Last-Event-ID` (or `last_event_id`) gets exactly what it missed.
    A comment heartbeat comes every 15 s; the stream ends cleanly after STREAM_MAX_SECONDS. A browser opens it
    with a ticket from POST /api/v1/dashboard/stream-ticket, good for one connection: when EventSource reports an
    error or the end, get a new ticket and reopen with `last_event_id` = the last id received.
    A secretary sees the events of the conversations and leads assigned to her; a patient's message in a
    conversation nobody has reaches ADMINs only. No event carries a message's text."""
    raise NotFound("The stream is served by functions/metrics_stream/main.py")


@cache
def create_app() -> OpenAPI:
    """The document's description of this function's route, built once per process."""
    app = create_api(__name__, "clinicbot metrics stream")
    app.register_api(api)
    return app

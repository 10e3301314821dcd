"""One request to the live stream: who asks (a ticket or a Bearer token), what for (scope, zone, where to resume),
then the Server-Sent Events response; errors are problem+json with the request id, as everywhere else."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from functools import partial

import redis
import redis.asyncio as aioredis
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from shared.auth import Principal
from shared.config import get_settings
from shared.db import session_scope
from shared.errors import AppError, FieldError, NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from shared.http import _REQUEST_ID, API_PREFIX, API_VERSION, field_errors_from, problem_response
from shared.logging import request_id_var
from shared.metrics.context import resolve_scope
from shared.metrics.live_access import TICKET_PATTERN, login_of_header, login_of_ticket, stream_viewer, ticket_key
from shared.metrics.live_feed import LiveEvent, visible_events
from shared.metrics.live_kpis import live_kpis
from shared.metrics.live_schemas import STREAM_ID_PATTERN, StreamQuery
from shared.metrics.live_stream import LiveStream, StreamPlan, StreamTiming

STREAM_PATH = f"{API_PREFIX}/dashboard/stream"
log = logging.getLogger("clinicbot.http")


class MethodNotAllowed(AppError):
    status, title, slug = 405, "Method Not Allowed", "method-not-allowed"


async def answer_stream(request: Request, timing: StreamTiming | None = None) -> Response:
    """The stream for this request, or the problem that stops it."""
    supplied = request.headers.get("x-request-id", "")
    request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    request_id_var.set(request_id)
    try:
        response = await _open(request, request_id, timing)
    except AppError as exc:
        response = _problem(request, exc.status, exc.title, exc.detail, exc.slug, getattr(exc, "errors", None),
                            exc.headers)  # fmt: skip
    except (OperationalError, InterfaceError) as exc:  # the database is down: retry later, as every function says
        log.error("database unavailable: %s", type(exc.orig).__name__, extra={"path": request.url.path})
        response = _problem(request, 503, "Service Unavailable", "The database is unavailable; retry later.",
                            "unavailable", headers={"Retry-After": "5"})  # fmt: skip
    except Exception:
        log.exception("unhandled error", extra={"path": request.url.path})
        response = _problem(request, 500, "Internal Server Error", "An unexpected error occurred; it has been "
                            "logged.", "internal")  # fmt: skip
    response.headers.update({"X-Request-ID": request_id, "X-API-Version": API_VERSION})
    log.info("request", extra={"method": request.method, "path": request.url.path, "status": response.status_code})
    return response


async def _open(request: Request, request_id: str, timing: StreamTiming | None) -> Response:
    if request.url.path != STREAM_PATH:
        raise NotFound(f"No route for {request.method} {request.url.path}")
    if request.method != "GET":
        raise MethodNotAllowed("The stream answers GET only", headers={"Allow": "GET"})
    settings = get_settings()
    login = await _login(request, settings.redis_url)
    ip = request.client.host if request.client else None
    viewer = await asyncio.to_thread(stream_viewer, login, ip, request_id)
    query, cursor = _query(request)
    scope = await asyncio.to_thread(_scope_of, viewer, query.user_id)
    plan = StreamPlan(settings.redis_url, cursor, settings.stream_max_seconds, partial(_visible, scope),
                      partial(_kpis, scope, query.tz))  # fmt: skip
    return StreamingResponse(LiveStream(plan, timing).run(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})  # fmt: skip


async def _login(request: Request, redis_url: str) -> dict:
    """The login asking: its ticket's (which is spent now) when it sends one, else its Bearer token's."""
    ticket = request.query_params.get("ticket")
    if ticket is None:
        return login_of_header(request.headers.get("authorization", ""))
    if not re.match(TICKET_PATTERN, ticket):
        raise Unauthorized("Unknown, used or expired stream ticket")
    client = aioredis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)
    try:
        return login_of_ticket(await client.getdel(ticket_key(ticket)))
    except redis.RedisError:
        raise ServiceUnavailable("Stream tickets need Redis, which is unavailable; retry later.") from None
    finally:
        await client.aclose()


def _query(request: Request) -> tuple[StreamQuery, str | None]:
    try:
        query = StreamQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise ValidationFailed(field_errors_from(exc)) from None
    header = request.headers.get("last-event-id")
    if header is not None and not re.match(STREAM_ID_PATTERN, header):
        raise ValidationFailed([FieldError("Last-Event-ID", "not a stream id such as 1764514800000-0")])
    return query, header or query.last_event_id


def _scope_of(viewer: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    with session_scope() as session:
        return resolve_scope(session, viewer, requested)


def _visible(scope: uuid.UUID | None, events: list[LiveEvent]) -> list[LiveEvent]:
    if scope is None:
        return events
    with session_scope() as session:
        return visible_events(session, events, scope)


def _kpis(scope: uuid.UUID | None, tz: str | None) -> dict:
    with session_scope() as session:
        return live_kpis(session, scope, tz)


def _problem(request: Request, status: int, title: str, detail: str, slug: str,
             errors: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    problem = problem_response(status, title, detail, slug, errors=errors, headers=headers, instance=request.url.path)
    return Response(problem.get_data(), status_code=status, headers=dict(problem.headers))

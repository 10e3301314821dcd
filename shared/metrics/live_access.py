"""Who may open the live stream: a Bearer access token, or a stream ticket for a browser's EventSource (which
cannot send a header).

`POST /dashboard/stream-ticket` (Bearer, VIEW_METRICS) returns a random ticket that opens the stream alone, within
60 s (less when the token expires sooner), once: Redis holds a hash of it, never the ticket, with the login it
stands for, and the first stream request presenting it deletes it (GETDEL). Either way the login is checked again
when the stream opens: the user active, the token and its login not revoked, VIEW_METRICS still held.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from shared.auth import ACCESS, INVALID_TOKEN, Principal, _current_role, decode_token
from shared.cache import get_redis, key
from shared.db import session_scope, utcnow
from shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from shared.users.permissions import Permission, role_permissions

TICKET_SECONDS = 60
PURPOSE = "dashboard-stream"  # a ticket opens this and nothing else
TICKET_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"


@dataclass(frozen=True)
class StreamTicket:
    ticket: str
    expires_in: int


def ticket_key(ticket: str) -> str:
    return key("live", "ticket", PURPOSE, hashlib.sha256(ticket.encode()).hexdigest())


def issue_ticket(principal: Principal) -> StreamTicket:
    """A single-use ticket standing for `principal`'s login; 503 when Redis cannot keep it."""
    lifetime = min(TICKET_SECONDS, int((principal.expires_at - utcnow()).total_seconds()))
    if lifetime < 1:
        raise Unauthorized(INVALID_TOKEN)
    ticket = secrets.token_urlsafe(32)
    login = {"sub": str(principal.user_id), "jti": str(principal.jti), "fam": str(principal.family_id),
             "exp": int(principal.expires_at.timestamp())}  # fmt: skip
    try:
        get_redis().set(ticket_key(ticket), json.dumps(login), ex=lifetime, nx=True)
    except redis.RedisError:
        raise ServiceUnavailable("Stream tickets need Redis, which is unavailable; retry later.") from None
    return StreamTicket(ticket, lifetime)


def login_of_ticket(stored: str | None) -> dict:
    """The login a redeemed ticket stood for, as token claims; 401 for a ticket unknown, used or expired."""
    if stored is None:
        raise Unauthorized("Unknown, used or expired stream ticket")
    login = json.loads(stored)
    if login["exp"] <= utcnow().timestamp():
        raise Unauthorized(INVALID_TOKEN)
    return {"sub": uuid.UUID(login["sub"]), "jti": uuid.UUID(login["jti"]), "fam": uuid.UUID(login["fam"]),
            "exp": login["exp"]}  # fmt: skip


def login_of_header(authorization: str) -> dict:
    """The claims of an `Authorization: Bearer` access token; 401 when there is none or it is not valid."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token or stream ticket")
    return decode_token(token.strip(), ACCESS)


def stream_viewer(login: dict, ip: str | None = None, request_id: str | None = None) -> Principal:
    """The principal of a login about to open the stream, checked now (active, not revoked, VIEW_METRICS)."""
    with session_scope() as session:
        role = _current_role(session, login)
        if role is None:
            raise Unauthorized(INVALID_TOKEN)
        if Permission.VIEW_METRICS not in role_permissions(session, role):
            raise Forbidden(f"This action needs the permission {Permission.VIEW_METRICS.value}")
    return Principal(user_id=login["sub"], role=role, jti=login["jti"], family_id=login["fam"],
                     expires_at=datetime.fromtimestamp(login["exp"], tz=UTC), ip=ip, request_id=request_id)  # fmt: skip

"""Request rate limits of the secretary API (card 107), counted in Redis for every instance at once.

A signed-in user may make API_RATE_LIMIT_PER_USER requests a minute, counted by user; anything else
(login, refresh, the public feedback form, a bad token) API_RATE_LIMIT_ANONYMOUS a minute, counted by client
address. Every answer carries X-RateLimit-Limit/Remaining/Reset; past the limit, 429 with Retry-After. The
token is only read here (signature and expiry), not checked against revocations: that is authentication's job,
and a revoked token still counts against its user. Health checks are not limited. When Redis is away the
limit is not applied (shared/rate_limit.py): the front desk keeps working.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask.typing import ResponseReturnValue

from shared.auth import ACCESS, decode_token
from shared.config import get_settings
from shared.errors import AppError, TooManyRequests
from shared.http import client_ip
from shared.rate_limit import Allowance, hit

UNLIMITED_PATHS = frozenset({"/api/v1/health"})


def install_rate_limits(app: Flask) -> None:
    """Count every request of `app` and refuse those past the caller's limit."""
    app.before_request(_count_request)
    app.after_request(_add_headers)


def _caller() -> tuple[str, str, int]:
    """(limit name, subject, requests per minute) for the current request."""
    settings = get_settings()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return "api-user", str(decode_token(token.strip(), ACCESS)["sub"]), settings.api_rate_limit_per_user
        except AppError:
            pass  # a bad token is anonymous here; authentication answers 401 for it
    return "api-anonymous", client_ip() or "unknown", settings.api_rate_limit_anonymous


def _count_request() -> ResponseReturnValue | None:
    if request.path in UNLIMITED_PATHS or request.method == "OPTIONS":
        return None
    name, subject, limit = _caller()
    allowance = hit(name, subject, limit)
    g.rate_allowance = allowance
    if allowance is not None and not allowance.allowed:
        raise TooManyRequests(
            f"more than {limit} requests a minute; try again in {allowance.reset_seconds} s",
            retry_after=allowance.reset_seconds,
        )
    return None


def _add_headers(response):
    allowance: Allowance | None = g.get("rate_allowance")
    if allowance is not None:
        response.headers.update(allowance.headers)
    return response

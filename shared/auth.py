"""JWT access and refresh tokens, and the `require_auth` / `require_role` / `require_permission` decorators.

Access tokens are short-lived and carry the user id (`sub`), their own id (`jti`) and the login's
family id (`fam`). Refresh tokens rotate inside that family; every request re-checks in Postgres that the
user is active and that neither the token nor its family was revoked, so logout, deactivation and a
detected refresh replay take effect at once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, request
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from shared.config import get_settings
from shared.db import session_scope, utcnow
from shared.errors import Forbidden, Unauthorized
from shared.http import client_ip
from shared.users.models import RefreshToken, RevokedToken, Role, User, UserStatus
from shared.users.permissions import Permission, role_permissions

ACCESS, REFRESH = "access", "refresh"
INVALID_TOKEN = "Invalid, expired or revoked token"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling: the authenticated user and the token they used."""

    user_id: uuid.UUID
    role: Role
    jti: uuid.UUID
    family_id: uuid.UUID
    expires_at: datetime
    ip: str | None = None
    request_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_in: int
    refresh_expires_in: int


def _encode(user_id: uuid.UUID, token_type: str, family_id: uuid.UUID, jti: uuid.UUID, lifetime: timedelta) -> str:
    settings = get_settings()
    settings.require("jwt_secret_key")
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "typ": token_type,
        "fam": str(family_id),
        "jti": str(jti),
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, settings.jwt_secret_key.get_secret_value(), algorithm=settings.jwt_algorithm)


def decode_token(token: str, expected_type: str) -> dict[str, Any]:
    """The token's claims, or Unauthorized when it is malformed, tampered with, expired or of the wrong type."""
    settings = get_settings()
    settings.require("jwt_secret_key")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret_key.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "jti", "fam", "typ", "exp", "iat"]},
        )
        if claims["typ"] != expected_type:
            raise jwt.InvalidTokenError("wrong token type")
        for name in ("sub", "jti", "fam"):
            claims[name] = uuid.UUID(claims[name])
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized(INVALID_TOKEN) from None
    return claims


def issue_tokens(session: Session, user: User, family_id: uuid.UUID | None = None) -> TokenPair:
    """A new access + refresh pair; the refresh token is recorded so that it can be used only once."""
    settings = get_settings()
    family_id = family_id or uuid.uuid4()
    access_lifetime = timedelta(minutes=settings.jwt_access_token_minutes)
    refresh_lifetime = timedelta(days=settings.jwt_refresh_token_days)
    refresh_jti = uuid.uuid4()
    session.add(
        RefreshToken(jti=refresh_jti, family_id=family_id, user_id=user.id, expires_at=utcnow() + refresh_lifetime)
    )
    return TokenPair(
        access_token=_encode(user.id, ACCESS, family_id, uuid.uuid4(), access_lifetime),
        refresh_token=_encode(user.id, REFRESH, family_id, refresh_jti, refresh_lifetime),
        access_expires_in=int(access_lifetime.total_seconds()),
        refresh_expires_in=int(refresh_lifetime.total_seconds()),
    )


def _current_role(session: Session, claims: dict[str, Any]) -> Role | None:
    """The user's role if the user is active and neither the token nor its family is revoked."""
    family_revoked = exists().where(RefreshToken.family_id == claims["fam"], RefreshToken.revoked_at.is_not(None))
    token_revoked = exists().where(RevokedToken.jti == claims["jti"])
    return session.scalar(
        select(User.role).where(
            User.id == claims["sub"], User.status == UserStatus.ACTIVE, ~family_revoked, ~token_revoked
        )
    )


def authenticate_request() -> Principal:
    """The caller of the current request, from its `Authorization: Bearer` header."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token")
    claims = decode_token(token.strip(), ACCESS)
    with session_scope() as session:
        role = _current_role(session, claims)
    if role is None:
        raise Unauthorized(INVALID_TOKEN)
    return Principal(
        user_id=claims["sub"],
        role=role,
        jti=claims["jti"],
        family_id=claims["fam"],
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
        ip=client_ip(),
        request_id=g.get("request_id"),
    )


def current_principal() -> Principal:
    """The principal that `require_auth` stored for this request."""
    principal = g.get("principal")
    if principal is None:
        raise RuntimeError("current_principal() called on a route without @require_auth")
    return principal


_GUARD_ATTR = "__clinicbot_guard__"


@dataclass(frozen=True)
class Guard:
    """What a route demands beyond a valid token: one of `roles`, and every one of `permissions`."""

    roles: tuple[Role, ...] = ()
    permissions: tuple[Permission, ...] = ()


def _authorize(guard: Guard) -> None:
    principal = authenticate_request()
    if guard.roles and principal.role not in guard.roles:
        raise Forbidden("This action needs the role " + " or ".join(role.value for role in guard.roles))
    if guard.permissions:
        with session_scope() as session:
            held = role_permissions(session, principal.role)
        missing = [permission.value for permission in guard.permissions if permission not in held]
        if missing:
            raise Forbidden("This action needs the permission " + ", ".join(missing))
    g.principal = principal


def _guard(view: F, guard: Guard) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:  # the app did not install_auth(); authorize here instead
            _authorize(guard)
        return view(*args, **kwargs)

    # flask-openapi3 copies __dict__ onto the view it registers, so the hook below can find the guard.
    setattr(wrapper, _GUARD_ATTR, guard)
    return wrapper  # type: ignore[return-value]


def require_auth(view: F) -> F:
    """Reject the request with 401 unless it carries a valid access token."""
    return _guard(view, Guard())


def require_role(*roles: Role) -> Callable[[F], F]:
    """Like require_auth, and 403 unless the user holds one of `roles`."""
    return lambda view: _guard(view, Guard(roles=roles))


def require_permission(*permissions: Permission) -> Callable[[F], F]:
    """Like require_auth, and 403 unless the user's role holds every one of `permissions`."""
    return lambda view: _guard(view, Guard(permissions=permissions))


def _authorize_before_validation() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    guard = getattr(view, _GUARD_ATTR, None)
    if guard is not None:
        _authorize(guard)


def install_auth(app: Flask) -> None:
    """Authorize guarded routes before their input is validated, so an anonymous caller always gets 401."""
    app.before_request(_authorize_before_validation)

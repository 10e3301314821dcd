"""Use cases of users and their sessions: login, refresh, logout, and administration by an ADMIN."""

from __future__ import annotations

import hashlib
import uuid

import redis
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared import cache
from shared.audit.service import record_audit
from shared.auth import REFRESH, Principal, TokenPair, decode_token, issue_tokens
from shared.config import get_settings
from shared.db import utcnow
from shared.errors import Conflict, FieldError, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from shared.pagination import Page, paginate
from shared.users.models import RefreshToken, RevokedToken, Role, User, UserStatus
from shared.users.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from shared.users.schemas import UserCreate, UserListQuery, UserOut, UserUpdate

WRONG_CREDENTIALS = "Invalid email or password"


def _login_keys(email: str) -> tuple[str, str]:
    # Hash the address: Redis keys are visible to operators and should not list patients' or staff's emails.
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return cache.key("login-failures", digest), cache.key("login-lock", digest)


def _check_not_locked(store: redis.Redis, email: str) -> None:
    _, lock_key = _login_keys(email)
    remaining = store.ttl(lock_key)
    if remaining > 0:
        raise TooManyRequests("Too many failed logins for this account; try again later", retry_after=remaining)


def _count_failure(store: redis.Redis, email: str) -> None:
    settings = get_settings()
    failures_key, lock_key = _login_keys(email)
    with store.pipeline() as pipe:
        # The window starts at the first failure (SET NX EX works on Redis 6, unlike EXPIRE NX); INCR keeps the TTL.
        pipe.set(failures_key, 0, ex=settings.login_failure_window_seconds, nx=True)
        pipe.incr(failures_key)
        _, failures = pipe.execute()
    if failures >= settings.login_max_failures:
        with store.pipeline() as pipe:
            pipe.set(lock_key, 1, ex=settings.login_lockout_seconds)
            pipe.delete(failures_key)
            pipe.execute()


def log_in(session: Session, store: redis.Redis, email: str, password: str) -> TokenPair:
    """Tokens for valid credentials; 401 that never says which part was wrong; 429 after repeated failures."""
    _check_not_locked(store, email)
    user = session.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else DUMMY_HASH, password) or user is None:
        _count_failure(store, email)
        raise Unauthorized(WRONG_CREDENTIALS)
    if user.status is not UserStatus.ACTIVE:
        raise Unauthorized(WRONG_CREDENTIALS)
    store.delete(_login_keys(email)[0])
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return issue_tokens(session, user)


def _revoke_families(session: Session, *conditions) -> None:
    session.execute(
        update(RefreshToken).where(RefreshToken.revoked_at.is_(None), *conditions).values(revoked_at=utcnow())
    )


def refresh_session(session: Session, refresh_token: str) -> TokenPair:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family."""
    claims = decode_token(refresh_token, REFRESH)
    token = session.get(RefreshToken, claims["jti"], with_for_update=True)
    if token is None or token.revoked_at is not None:
        raise Unauthorized("Invalid, expired or revoked token")
    if token.used_at is not None:
        _revoke_families(session, RefreshToken.family_id == token.family_id)
        # Commit before answering 401: the revocation is the point, and raising would roll it back.
        session.commit()
        raise Unauthorized("Refresh token already used; this login has been revoked everywhere")
    user = session.get(User, token.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise Unauthorized("Invalid, expired or revoked token")
    token.used_at = utcnow()
    return issue_tokens(session, user, family_id=token.family_id)


def log_out(session: Session, principal: Principal) -> None:
    """Revoke the access token in use and every refresh token of its login."""
    session.add(
        RevokedToken(
            jti=principal.jti,
            user_id=principal.user_id,
            token_type="access",
            reason="logout",
            expires_at=principal.expires_at,
        )
    )
    _revoke_families(session, RefreshToken.family_id == principal.family_id)


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def list_users(session: Session, query: UserListQuery) -> Page[UserOut]:
    statement = select(User).order_by(User.created_at.desc(), User.id)
    if query.role:
        statement = statement.where(User.role == query.role)
    if query.status:
        statement = statement.where(User.status == query.status)
    return paginate(session, statement, query, UserOut.model_validate)


def _snapshot(user: User) -> dict[str, str]:
    return {"email": user.email, "full_name": user.full_name, "role": user.role.value, "status": user.status.value}


def create_user(session: Session, data: UserCreate, actor: Principal | None) -> User:
    """Create an account (the seed's signup, done by an ADMIN); 409 if the email is taken."""
    if session.scalar(select(func.count()).select_from(User).where(User.email == data.email)):
        raise Conflict("A user with this email already exists")
    user = User(email=data.email, full_name=data.full_name, password_hash=hash_password(data.password), role=data.role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("A user with this email already exists") from None
    record_audit(session, actor, "user.created", "user", user.id, after=_snapshot(user))
    return user


def _ensure_an_admin_remains(session: Session, user: User, changes: UserUpdate) -> None:
    demoted = changes.role is not None and changes.role is not Role.ADMIN
    deactivated = changes.status is UserStatus.INACTIVE
    if user.role is Role.ADMIN and user.status is UserStatus.ACTIVE and (demoted or deactivated):
        active_admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
        )
        if active_admins <= 1:
            raise Conflict("This is the last active ADMIN; promote another user first")


def update_user(session: Session, user_id: uuid.UUID, changes: UserUpdate, actor: Principal) -> User:
    """Change a user's name, role, status or password; deactivation ends all their sessions."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("User not found")
    _ensure_an_admin_remains(session, user, changes)
    before = _snapshot(user)
    for field in ("full_name", "role", "status"):
        value = getattr(changes, field)
        if value is not None:
            setattr(user, field, value)
    if changes.password is not None:
        user.password_hash = hash_password(changes.password)
    if user.status is UserStatus.INACTIVE or changes.password is not None:
        _revoke_families(session, RefreshToken.user_id == user.id)
    after = _snapshot(user) | ({"password": "changed"} if changes.password else {})
    record_audit(session, actor, "user.updated", "user", user.id, before=before, after=after)
    return user


def deactivate_user(session: Session, user_id: uuid.UUID, actor: Principal) -> User:
    return update_user(session, user_id, UserUpdate(status=UserStatus.INACTIVE), actor)


def ensure_admin(session: Session, email: str, full_name: str, password: str) -> tuple[User, bool]:
    """The ADMIN with this email, created if absent; returns (user, created)."""
    existing = session.scalar(select(User).where(User.email == email.lower()))
    if existing is not None:
        return existing, False
    data = UserCreate(email=email, full_name=full_name, password=password, role=Role.ADMIN)
    return create_user(session, data, actor=None), True


def any_admin_exists(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(User).where(User.role == Role.ADMIN)) > 0


def require_active_user(session: Session, user_id: uuid.UUID, field: str) -> User:
    """The ACTIVE user `user_id`, or a 422 naming `field` (someone to assign work to)."""
    user = session.get(User, user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise ValidationFailed([FieldError(field, "must be the id of an ACTIVE user")])
    return user

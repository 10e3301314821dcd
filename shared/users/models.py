"""Users of the secretary API and the tokens issued to them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt, Timestamps, UUIDPk, pg_enum


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    USER = "USER"


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[UUIDPk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(pg_enum(Role, "user_role"), default=Role.USER, index=True)
    status: Mapped[UserStatus] = mapped_column(
        pg_enum(UserStatus, "user_status"), default=UserStatus.ACTIVE, index=True
    )
    last_login_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)


class RefreshToken(Base):
    """One issued refresh token. Tokens rotate within a family; replaying a used one revokes the family."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class RevokedToken(Base):
    """An access or refresh token revoked before it expired (logout, replay, deactivation)."""

    __tablename__ = "revoked_tokens"

    id: Mapped[UUIDPk]
    jti: Mapped[uuid.UUID] = mapped_column(unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[CreatedAt]

    __table_args__ = (CheckConstraint("token_type IN ('access', 'refresh')", name="token_type"),)


class RolePermission(Base):
    """An ADMIN's change to one role's default permissions (see shared/users/permissions.py)."""

    __tablename__ = "role_permissions"

    role: Mapped[Role] = mapped_column(pg_enum(Role, "user_role"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool]
    changed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[CreatedAt]

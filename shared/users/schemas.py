"""Request and response bodies of the auth and users endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, RootModel, field_validator

from shared.pagination import PageQuery
from shared.users.models import Role, UserStatus
from shared.users.permissions import Permission

PASSWORD = Field(min_length=8, max_length=128, examples=["s3nha-forte-da-clinica"])


def _lower(value: str) -> str:
    return value.strip().lower()


class LoginIn(BaseModel):
    email: EmailStr = Field(examples=["secretaria@clinica.com.br"])
    password: str = Field(min_length=1, max_length=128)

    _normalize_email = field_validator("email")(_lower)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."])


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires", examples=[900])
    refresh_expires_in: int = Field(examples=[604800])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str = Field(examples=["ana@clinica.com.br"])
    full_name: str = Field(examples=["Ana Souza"])
    role: Role
    status: UserStatus
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UserCreate(BaseModel):
    email: EmailStr = Field(examples=["ana@clinica.com.br"])
    full_name: str = Field(min_length=1, max_length=200, examples=["Ana Souza"])
    password: str = PASSWORD
    role: Role = Role.USER

    _normalize_email = field_validator("email")(_lower)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"full_name": "Ana Souza", "role": "USER"}})

    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    status: UserStatus | None = None
    password: str | None = Field(default=None, min_length=8, max_length=128)


class UserListQuery(PageQuery):
    role: Role | None = None
    status: UserStatus | None = None


class UserPath(BaseModel):
    user_id: uuid.UUID


class MeOut(UserOut):
    permissions: list[Permission] = Field(description="what this user's role may do now")


class PermissionOut(BaseModel):
    name: Permission
    description: str = Field(examples=["See leads, their interactions, journey and history"])
    default_roles: list[Role]


class RolePath(BaseModel):
    role: Role


class RolePermissionsOut(BaseModel):
    role: Role
    permissions: list[Permission] = Field(examples=[["READ_CONVERSATIONS", "READ_LEADS", "SEND_MESSAGES"]])
    added: list[Permission] = Field(description="held beyond the role's defaults")
    removed: list[Permission] = Field(description="defaults taken away from the role")


class RolePermissionsUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"permissions": ["READ_CONVERSATIONS", "READ_LEADS", "SEND_MESSAGES"]}},
    )

    permissions: set[Permission] = Field(max_length=len(Permission), description="every permission the role keeps")


class PermissionCatalogueOut(RootModel[list[PermissionOut]]):
    pass

"""The error hierarchy. Every HTTP error body is built from one of these (see shared/http.py).

ClinicbotError
├── ConfigurationError        a setting is missing or malformed: the process must not start
└── AppError                  maps to an HTTP problem (RFC 9457)
    ├── BadRequest            400  malformed input (e.g. unparseable JSON)
    ├── Unauthorized          401  no, bad, expired or revoked credentials
    ├── Forbidden             403  authenticated, but the role does not allow it
    ├── NotFound              404  absent, or not visible to this user
    ├── Conflict              409  violates uniqueness or a state rule
    ├── ValidationFailed      422  well-formed input with invalid fields (carries field errors)
    ├── TooManyRequests       429  rate limited (carries retry_after seconds)
    ├── BadGateway            502  a backend we depend on answered, but refused or rejected our request
    └── ServiceUnavailable    503  a backend we depend on is down
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ClinicbotError(Exception):
    """Base of every error raised on purpose by clinicbot."""


class ConfigurationError(ClinicbotError):
    """A required setting is missing or malformed."""


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message}


class AppError(ClinicbotError):
    status = 500
    title = "Internal Server Error"
    slug = "internal"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}


class BadRequest(AppError):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "Authentication required", headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class ValidationFailed(AppError):
    status, title, slug = 422, "Validation Failed", "validation"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        names = ", ".join(error.field for error in errors)
        super().__init__(detail or f"Invalid fields: {names}")
        self.errors = errors


class TooManyRequests(AppError):
    status, title, slug = 429, "Too Many Requests", "rate-limited"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class BadGateway(AppError):
    status, title, slug = 502, "Bad Gateway", "bad-gateway"


class ServiceUnavailable(AppError):
    status, title, slug = 503, "Service Unavailable", "unavailable"

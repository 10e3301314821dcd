"""How a task target knows the queue called it: Google's OIDC token from real Cloud Tasks in production,
otherwise a shared secret header (local stack, Cloud Tasks emulator, in-process queue).

Both sides ask `task_auth_mode`, so what the queue sends is what the target expects.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Literal

from shared.config import Settings
from shared.errors import Forbidden, ServiceUnavailable, Unauthorized
from shared.queue import SECRET_HEADER, target_url

log = logging.getLogger("clinicbot.tasks")

# verify(token, audience) -> the token's claims; raises ValueError (or google.auth's errors) when invalid.
TokenVerifier = Callable[[str, str], Mapping[str, Any]]

_MAX_AGE = re.compile(r"max-age=(\d+)")
_warned_unauthenticated = threading.Event()


def task_auth_mode(settings: Settings) -> Literal["oidc", "secret"]:
    """OIDC only where real Cloud Tasks delivers (it signs tokens; the emulator and our own queue cannot)."""
    real_cloud_tasks = settings.task_queue_backend == "cloudtasks" and not settings.cloud_tasks_emulator_host
    return "oidc" if settings.environment == "production" and real_cloud_tasks else "secret"


def authenticate_task(headers: Mapping[str, str], target: str, settings: Settings,
                      verify_token: TokenVerifier | None = None) -> None:  # fmt: skip
    """Return when the caller is our queue; raise Unauthorized (401), Forbidden (403) or ServiceUnavailable."""
    if task_auth_mode(settings) == "oidc":
        _check_oidc_token(headers, target, settings, verify_token or default_token_verifier())
    else:
        _check_secret(headers, settings)


def _check_secret(headers: Mapping[str, str], settings: Settings) -> None:
    if settings.task_auth_secret is None:
        if settings.environment == "local":
            if not _warned_unauthenticated.is_set():
                _warned_unauthenticated.set()
                log.warning("TASK_AUTH_SECRET is not set: task targets accept any caller (local mode only)")
            return
        raise Unauthorized("Task targets require TASK_AUTH_SECRET outside local mode")
    given = headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, settings.task_auth_secret.get_secret_value().encode()):
        raise Unauthorized(f"Missing or wrong {SECRET_HEADER}")


def _check_oidc_token(headers: Mapping[str, str], target: str, settings: Settings, verify: TokenVerifier) -> None:
    from google.auth.exceptions import GoogleAuthError, TransportError

    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A Cloud Tasks OIDC token is required")
    audience = settings.task_oidc_audience or target_url(settings, target)
    try:
        claims = verify(token.strip(), audience)
    except TransportError:
        log.exception("could not fetch Google's token signing keys")
        raise ServiceUnavailable("Cannot verify the token now; retry later", headers={"Retry-After": "30"}) from None
    except (ValueError, GoogleAuthError) as exc:
        raise Unauthorized(f"Invalid OIDC token: {exc}") from None
    expected = settings.task_service_account_email
    if expected and (claims.get("email") != expected or claims.get("email_verified") is not True):
        raise Forbidden("The token does not belong to the task queue's service account")


class CachingTransport:
    """A google-auth transport that keeps GET answers (Google's public keys) for their Cache-Control max-age,
    so that verifying a token does not cost a request to Google each time."""

    def __init__(self, inner: Callable[..., Any], default_ttl: float = 300.0) -> None:
        self._inner = inner
        self._default_ttl = default_ttl
        self._cache: dict[str, tuple[float, Any]] = {}

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: float | None = None, **kwargs: Any) -> Any:  # fmt: skip
        if method != "GET":
            return self._inner(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        cached = self._cache.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        response = self._inner(url, method=method, body=body, headers=headers, timeout=timeout or 10, **kwargs)
        if response.status == 200:
            found = _MAX_AGE.search(response.headers.get("Cache-Control", "") or "")
            ttl = float(found.group(1)) if found else self._default_ttl
            self._cache[url] = (time.monotonic() + ttl, response)
        return response


class GoogleTokenVerifier:
    """Verifies Google-signed ID tokens (what Cloud Tasks attaches) against Google's cached public keys."""

    def __init__(self, transport: Callable[..., Any] | None = None) -> None:
        if transport is None:
            from google.auth.transport.requests import Request

            transport = Request()
        self._transport = CachingTransport(transport)

    def __call__(self, token: str, audience: str) -> Mapping[str, Any]:
        from google.oauth2 import id_token

        return id_token.verify_oauth2_token(token, self._transport, audience=audience, clock_skew_in_seconds=10)


@lru_cache(maxsize=1)
def default_token_verifier() -> GoogleTokenVerifier:
    """One verifier (and key cache) per process."""
    return GoogleTokenVerifier()

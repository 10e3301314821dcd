"""One HTTP call to WAHA: the API key, typed errors, and retries only where a retry cannot send twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from shared.whatsapp.errors import WahaError, WahaMediaTooLarge, WahaUnreachable, error_for_status

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The request never reached WAHA: no connection was made, or none was free in our pool. Retrying these
# cannot deliver a message twice, so even sends may.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Worth another go for a call that is safe to repeat (a read timeout or a dropped connection may come
# after WAHA acted). Protocol or proxy misconfiguration is not: it fails the same way every time.
RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class WahaTransport:
    """An httpx client bound to one WAHA, with its key and retry policy."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        transport: httpx.BaseTransport | None,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        # Added per request rather than as a client default, so that media on another host never sees it.
        self._key_header = {"X-Api-Key": api_key} if api_key else {}
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send one request to WAHA; a 2xx response, or a typed WahaError."""
        return self._retrying(method, path, idempotent, lambda: self._call_once(method, path, **kwargs))

    def download(self, url: str, max_bytes: int | None) -> tuple[bytes, str]:
        """GET a file (absolute or WAHA-relative url), streaming, refusing more than `max_bytes`."""
        target = self._http.base_url.join(url)
        base = self._http.base_url
        # WAHA's media links carry no token: its key opens them. Any other host (an S3 link, a forged
        # payload) gets no key, so a webhook field can never make us hand the key out.
        same_origin = (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
        headers = self._key_header if same_origin else {}
        return self._retrying("GET", target.path, True, lambda: self._download_once(target, headers, max_bytes))

    def _call_once(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        response = self._http.request(method, path, headers={**self._key_header, **(headers or {})}, **kwargs)
        if not response.is_success:
            raise error_for_status(method, path, response.status_code, response.text)
        return response

    def _download_once(self, target: httpx.URL, headers: dict[str, str], max_bytes: int | None) -> tuple[bytes, str]:
        with self._http.stream("GET", target, headers=headers) as response:
            if not response.is_success:
                response.read()
                raise error_for_status("GET", target.path, response.status_code, response.text)
            declared = response.headers.get("Content-Length", "")
            if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
                raise WahaMediaTooLarge("GET", target.path, f"{declared} bytes declared, limit {max_bytes}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:  # Content-Length may be absent or wrong
                    raise WahaMediaTooLarge("GET", target.path, f"more than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "application/octet-stream")

    def _retrying(self, method: str, path: str, idempotent: bool, attempt_once: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return attempt_once()
            except httpx.TransportError as exc:
                error: WahaError = WahaUnreachable(method, path, f"{type(exc).__name__}: {exc}")
                error.__cause__ = exc
                retryable = isinstance(exc, NEVER_SENT) or (idempotent and isinstance(exc, RETRYABLE))
            except WahaError as exc:
                # A send that got a 5xx or 429 may still have gone out (WAHA can fail after WhatsApp accepted
                # it), so only calls that are safe to repeat retry on an answer.
                error, retryable = exc, idempotent and exc.transient
            attempt += 1
            if not retryable or attempt > self._retries:
                logger.warning("%s; giving up after %d attempt(s)", error, attempt)
                raise error
            delay = self._backoff * 2 ** (attempt - 1)
            logger.warning("%s; retry %d/%d in %.2fs", error, attempt, self._retries, delay)
            self._sleep(delay)

"""What can go wrong when we call WAHA.

ClinicbotError
└── WahaError                 carries method and path (never the API key, never the query string)
    ├── WahaUnreachable       no answer: connect error, timeout, dropped connection        (transient)
    ├── WahaAuthError         401 / 403: a wrong or missing X-Api-Key
    ├── WahaNotFound          404: no such session, lid or file
    ├── WahaRejected          any other 4xx; carries status and body                       (transient if 429)
    ├── WahaServerError       5xx                                                          (transient)
    └── WahaMediaTooLarge     a media download went past max_bytes

`transient` tells a queue consumer whether to answer 5xx (try the task later) or give up (style rule 3).
"""

from __future__ import annotations

from shared.errors import ClinicbotError

# Enough of an error body to see WAHA's message, not so much that a log line carries a whole payload.
BODY_EXCERPT_CHARS = 500


class WahaError(ClinicbotError):
    """Base of every failed WAHA call."""

    transient = False

    def __init__(self, method: str, path: str, detail: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(f"WAHA {method} {path}: {detail}")
        self.method = method
        self.path = path
        self.status = status
        self.body = body[:BODY_EXCERPT_CHARS]


class WahaUnreachable(WahaError):
    transient = True


class WahaAuthError(WahaError):
    pass


class WahaNotFound(WahaError):
    pass


class WahaRejected(WahaError):
    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.status == 429


class WahaServerError(WahaError):
    transient = True


class WahaMediaTooLarge(WahaError):
    pass


def error_for_status(method: str, path: str, status: int, body: str) -> WahaError:
    """The typed error for a non-2xx answer."""
    detail = f"HTTP {status}"
    if status in (401, 403):
        return WahaAuthError(method, path, detail, status=status, body=body)
    if status == 404:
        return WahaNotFound(method, path, detail, status=status, body=body)
    if status >= 500:
        return WahaServerError(method, path, detail, status=status, body=body)
    return WahaRejected(method, path, detail, status=status, body=body)

"""The Generative Language API's bodies: a generateContent answer, its token counts, and Google's error shape."""

from __future__ import annotations

import math
import secrets
from typing import Any

# google.rpc.Code names, as Google's JSON errors spell them in `error.status`.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# What Google says when nothing more specific applies.
DEFAULT_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota).",
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    ),
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}


class ApiError(Exception):
    """A request Google would refuse: the app answers `build_error_body(code, message)` with status `code`."""

    def __init__(self, code: int, message: str, details: list | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def build_error_body(code: int, message: str | None = None, details: list | None = None) -> dict:
    """`{"error": {code, message, status}}`, which google-genai turns into ClientError / ServerError."""
    status = STATUS_NAMES.get(code, "FAILED_PRECONDITION" if code < 500 else "UNKNOWN")
    error: dict[str, Any] = {"code": code, "message": message or DEFAULT_MESSAGES.get(code, status), "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def build_generation_body(model: str, request_body: dict, text: str) -> dict:
    """A one-candidate generateContent answer whose text is `text`."""
    prompt_tokens = estimate_tokens(request_text(request_body))
    answer_tokens = estimate_tokens(text)
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        },
        "modelVersion": model,
        "responseId": secrets.token_urlsafe(16),
    }


def estimate_tokens(text: str) -> int:
    """About four characters a token, as Google's docs estimate for English; never 0, so totals stay honest."""
    return max(1, math.ceil(len(text) / 4))


def request_text(request_body: dict) -> str:
    """Every text part of the request: the system instruction and all turns."""
    contents = list(request_body.get("contents") or [])
    if isinstance(request_body.get("systemInstruction"), dict):
        contents.append(request_body["systemInstruction"])
    return "\n".join(content_text(content) for content in contents if isinstance(content, dict))


def content_text(content: dict) -> str:
    parts = content.get("parts") or []
    return "\n".join(part["text"] for part in parts if isinstance(part, dict) and isinstance(part.get("text"), str))

"""Request bodies: read the JSON and check the fields the spec requires, answering 400 as WAHA does."""

from __future__ import annotations

from flask import request

from local.waha_emulator.sessions import SessionError

# What a spec field must hold, and how class-validator says so when it does not.
_CHECKS = {
    "string": (lambda v: isinstance(v, str), "must be a string"),
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "must be a number"),
    "boolean": (lambda v: isinstance(v, bool), "must be a boolean value"),
    "object": (lambda v: isinstance(v, dict), "must be an object"),
    "array": (lambda v: isinstance(v, list), "must be an array"),
}
_WEBHOOK_FIELDS = {"hmac": "object", "retries": "object", "customHeaders": "array"}
_RETRIES_FIELDS = {"attempts": "number", "delaySeconds": "number", "policy": "string"}


def read_json_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SessionError(400, ["the body must be a JSON object"])
    return body


def require_fields(
    body: dict, required: dict[str, str], optional: dict[str, str] | None = None, prefix: str = ""
) -> None:
    """400 listing every required field that is missing and every field of the wrong type."""
    problems = []
    for name, kind in required.items():
        if body.get(name) is None:
            problems.append(f"{prefix}{name} should not be empty")
        elif not _CHECKS[kind][0](body[name]):
            problems.append(f"{prefix}{name} {_CHECKS[kind][1]}")
    for name, kind in (optional or {}).items():
        if body.get(name) is not None and not _CHECKS[kind][0](body[name]):
            problems.append(f"{prefix}{name} {_CHECKS[kind][1]}")
    if problems:
        raise SessionError(400, problems)


def require_session_config(config: dict | None) -> None:
    """The part of a `SessionConfig` the emulator acts on, its `webhooks`, must be well formed."""
    webhooks = (config or {}).get("webhooks")
    if webhooks is None:
        return
    if not isinstance(webhooks, list) or not all(isinstance(webhook, dict) for webhook in webhooks):
        raise SessionError(400, ["config.webhooks must be an array of objects"])
    for index, webhook in enumerate(webhooks):
        prefix = f"config.webhooks.{index}."
        require_fields(webhook, {"url": "string", "events": "array"}, _WEBHOOK_FIELDS, prefix)
        if not all(isinstance(event, str) for event in webhook["events"]):
            raise SessionError(400, [f"{prefix}events must contain strings"])
        require_fields(webhook.get("hmac") or {}, {}, {"key": "string"}, prefix + "hmac.")
        require_fields(webhook.get("retries") or {}, {}, _RETRIES_FIELDS, prefix + "retries.")
        if (webhook.get("retries") or {}).get("policy", "constant") not in ("constant", "linear", "exponential"):
            raise SessionError(400, [f"{prefix}retries.policy must be one of: linear, exponential, constant"])
        for header in webhook.get("customHeaders") or []:
            header = header if isinstance(header, dict) else {}
            require_fields(header, {"name": "string", "value": "string"}, prefix=prefix + "customHeaders.")


def require_file(file: dict, needs_filename: bool) -> None:
    """A `RemoteFile` (mimetype, url) or a `BinaryFile` (mimetype, data); video and voice data need a name."""
    problems = []
    if not isinstance(file.get("mimetype"), str) or not file["mimetype"]:
        problems.append("file.mimetype should not be empty")
    has_url, has_data = isinstance(file.get("url"), str), isinstance(file.get("data"), str)
    if has_url == has_data:
        problems.append("file must have either url or data")
    if needs_filename and not file.get("filename"):
        problems.append("file.filename should not be empty")
    if problems:
        raise SessionError(400, problems)

"""Scripted answers: what the next generateContent calls return, one step per call, in order.

A step is `{"text": ...}`, `{"json": ...}` or `{"status": 429, "message": ...}`, optionally with
`"delay": seconds` (waited before answering); `{"delay": seconds}` alone waits, then gives the default answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_ANSWER_KEYS = ("text", "json", "status")
_KNOWN_KEYS = {*_ANSWER_KEYS, "message", "delay"}


class ScriptError(ValueError):
    """A step the emulator cannot play; the control routes answer 400 with this message."""


@dataclass(frozen=True)
class Step:
    text: str | None = None  # the candidate's text; None: the default answer (or an error, below)
    status: int | None = None  # an HTTP error status to answer with instead of a candidate
    message: str | None = None  # the error's message; None: Google's usual one for the status
    delay: float = 0.0


def parse_step(raw: Any) -> Step:
    """The `Step` a control route or `server.script(...)` was given, checked."""
    if not isinstance(raw, dict):
        raise ScriptError(f"a step must be an object, not {raw!r}")
    if unknown := set(raw) - _KNOWN_KEYS:
        raise ScriptError(f"unknown step keys {sorted(unknown)}; a step has text, json, status, message, delay")
    answers = [key for key in _ANSWER_KEYS if key in raw]
    if len(answers) > 1:
        raise ScriptError(f"a step answers one way, not with {answers}")
    if not answers and "delay" not in raw:
        raise ScriptError("a step needs text, json, status or delay")
    delay = raw.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise ScriptError(f"delay must be a number of seconds >= 0, not {delay!r}")
    return Step(text=_text_of(raw), status=_status_of(raw), message=_message_of(raw), delay=float(delay))


def parse_answer(raw: Any) -> str:
    """The text of a default answer, `{"text": ...}` or `{"json": ...}`."""
    if not isinstance(raw, dict) or len(raw) != 1 or not {"text", "json"} & set(raw):
        raise ScriptError('a default answer is {"text": "..."} or {"json": ...}')
    return _text_of(raw) or ""


def _text_of(raw: dict) -> str | None:
    if "json" in raw:
        return json.dumps(raw["json"], ensure_ascii=False)
    if "text" in raw and not isinstance(raw["text"], str):
        raise ScriptError("text must be a string")
    return raw.get("text")


def _status_of(raw: dict) -> int | None:
    status = raw.get("status")
    if status is None:
        return None
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise ScriptError(f"status must be an HTTP error status (400-599), not {status!r}")
    return status


def _message_of(raw: dict) -> str | None:
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise ScriptError("message must be a string")
    if message is not None and "status" not in raw:
        raise ScriptError("message goes with status")
    return message

"""The emulator's own routes under `/_emulator/` (no key): script answers, read what was asked, start over.

- POST   /_emulator/script     {"steps": [{"text": ...} | {"json": ...} | {"status": 429, "message": ...}
                               | {"delay": s, ...}]} -> {"pending": N}: queued for the next generateContent calls
- GET    /_emulator/script     {"pending": N};  DELETE drops the queued steps
- GET    /_emulator/requests   every API request, oldest first: {method, path, version, model, action, api_key,
                               body, status};  DELETE forgets them
- POST   /_emulator/default    {"text": ...} | {"json": ...}: the answer when no step is queued (until reset);
                               DELETE restores the built-in one (a schema-valid JSON, or a pt-BR greeting)
- POST   /_emulator/reset      all of the above back to how it started
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from local.gemini_emulator.emulator import GeminiEmulator
from local.gemini_emulator.script import ScriptError


def build_control_routes(emulator: GeminiEmulator) -> Blueprint:
    routes = Blueprint("gemini_emulator_control", __name__)

    @routes.post("/_emulator/script")
    def append_steps() -> Response:
        steps = _read_object().get("steps")
        if not isinstance(steps, list):
            raise ScriptError('the body is {"steps": [...]}')
        return jsonify({"pending": emulator.script(steps)})

    @routes.get("/_emulator/script")
    def count_steps() -> Response:
        return jsonify({"pending": emulator.pending_steps()})

    @routes.delete("/_emulator/script")
    def clear_steps() -> Response:
        emulator.clear_script()
        return jsonify({"pending": 0})

    @routes.get("/_emulator/requests")
    def list_requests() -> Response:
        return jsonify(emulator.requests())

    @routes.delete("/_emulator/requests")
    def clear_requests() -> Response:
        emulator.clear_requests()
        return jsonify({})

    @routes.post("/_emulator/default")
    def set_default() -> Response:
        emulator.set_default(_read_object())
        return jsonify({})

    @routes.delete("/_emulator/default")
    def restore_default() -> Response:
        emulator.set_default(None)
        return jsonify({})

    @routes.post("/_emulator/reset")
    def reset() -> Response:
        emulator.reset()
        return jsonify({})

    return routes


def _read_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ScriptError("the body must be a JSON object")
    return body

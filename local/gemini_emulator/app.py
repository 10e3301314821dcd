"""The emulator's WSGI app: the Generative Language API under /v1 and /v1beta, the control routes beside it.

- POST /{v1,v1beta}/models/{model}:generateContent         one candidate: the next scripted step or the default
- POST /{v1,v1beta}/models/{model}:streamGenerateContent   the same answer as one chunk (SSE with ?alt=sse)
- POST /{v1,v1beta}/models/{model}:embedContent            {"embedding": {"values": [...]}}
- POST /{v1,v1beta}/models/{model}:batchEmbedContents      {"embeddings": [...]}, what google-genai calls
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from local.gemini_emulator.control_routes import build_control_routes
from local.gemini_emulator.emulator import GeminiEmulator
from local.gemini_emulator.responses import ApiError, build_error_body
from local.gemini_emulator.script import ScriptError

logger = logging.getLogger(__name__)

_API_PREFIXES = ("/v1/", "/v1beta/")
_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
_KEY_INVALID_DETAILS = [{
    "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
    "metadata": {"service": "generativelanguage.googleapis.com"},
}]  # fmt: skip


def create_app(emulator: GeminiEmulator) -> Flask:
    app = Flask("gemini_emulator")
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    @app.before_request
    def record_and_check_key() -> Response | None:
        if not request.path.startswith(_API_PREFIXES):
            return None
        key = request.headers.get("x-goog-api-key") or request.args.get("key")
        g.record = emulator.record(_describe_request(key))
        return _refuse_key(emulator, key)

    @app.after_request
    def record_status(response: Response) -> Response:
        if "record" in g:
            emulator.update_record(g.record, status=response.status_code)
        return response

    @app.post("/<any(v1, v1beta):version>/models/<target>")
    def call_model(version: str, target: str) -> Response:
        model, _, method = target.rpartition(":")
        answer = _METHODS.get(method)
        if not model or answer is None:
            raise ApiError(404, f"models/{target} is not found for API version {version}, or is not supported.")
        return answer(emulator, model, _read_body())

    _register_error_handlers(app)
    app.register_blueprint(build_control_routes(emulator))
    return app


def answer_error(code: int, message: str | None = None, details: list | None = None) -> Response:
    response = jsonify(build_error_body(code, message, details))
    response.status_code = code
    return response


def _generate(emulator: GeminiEmulator, model: str, body: dict) -> Response:
    status, payload = emulator.generate(model, body)
    response = jsonify(payload)
    response.status_code = status
    return response


def _stream_generate(emulator: GeminiEmulator, model: str, body: dict) -> Response:
    status, payload = emulator.generate(model, body)
    if status != 200:
        return answer_error(status, payload["error"]["message"])
    if request.args.get("alt") == "sse":
        event = f"data: {json.dumps(payload, ensure_ascii=False)}\r\n\r\n"
        return Response(event, mimetype="text/event-stream")
    return jsonify([payload])  # without alt=sse Google streams one JSON array


def _embed_one(emulator: GeminiEmulator, model: str, body: dict) -> Response:
    return jsonify({"embedding": {"values": emulator.embed(body, "EmbedContentRequest")}})


def _embed_batch(emulator: GeminiEmulator, model: str, body: dict) -> Response:
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "* BatchEmbedContentsRequest.requests: requests is not specified")
    where = "BatchEmbedContentsRequest.requests[{}]"
    vectors = [emulator.embed(item, where.format(index)) for index, item in enumerate(requests)]
    return jsonify({"embeddings": [{"values": values} for values in vectors]})


_METHODS: dict[str, Callable[[GeminiEmulator, str, dict], Response]] = {
    "generateContent": _generate,
    "streamGenerateContent": _stream_generate,
    "embedContent": _embed_one,
    "batchEmbedContents": _embed_batch,
}


def _describe_request(key: str | None) -> dict:
    version, _, rest = request.path.strip("/").partition("/")
    target = rest.removeprefix("models/") if rest.startswith("models/") else None
    model, _, method = (target or "").rpartition(":")
    return {
        "method": request.method, "path": request.path, "version": version, "model": model or None,
        "action": method or None, "api_key": key, "body": request.get_json(silent=True), "status": None,
    }  # fmt: skip


def _refuse_key(emulator: GeminiEmulator, key: str | None) -> Response | None:
    if emulator.api_keys is None:
        return None
    if not key:
        return answer_error(403, _NO_KEY)
    if key not in emulator.api_keys:
        return answer_error(400, "API key not valid. Please pass a valid API key.", _KEY_INVALID_DETAILS)
    return None


def _read_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected a JSON object.")
    return body


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def answer_api_error(error: ApiError) -> Response:
        return answer_error(error.code, error.message, error.details)

    @app.errorhandler(ScriptError)
    def answer_script_error(error: ScriptError) -> Response:
        return answer_error(400, str(error))

    @app.errorhandler(HTTPException)
    def answer_http_error(error: HTTPException) -> Response:
        code = 404 if error.code in (404, 405) else error.code or 500
        return answer_error(code, f"{request.method} {request.path} is not a route of the Gemini emulator.")

    @app.errorhandler(Exception)
    def answer_bug(error: Exception) -> Response:
        logger.exception("%s %s failed", request.method, request.path)
        return answer_error(500, "The Gemini emulator failed (see its log).")

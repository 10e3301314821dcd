"""The emulated Gemini: scripted and default answers, embeddings, and the log of what was asked; thread-safe."""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from local.gemini_emulator.embeddings import DEFAULT_DIMENSIONS, MAX_DIMENSIONS, embed_text
from local.gemini_emulator.responses import ApiError, build_error_body, build_generation_body, content_text
from local.gemini_emulator.schema_instance import GREETING, build_instance
from local.gemini_emulator.script import Step, parse_answer, parse_step


class GeminiEmulator:
    """What the routes do. `api_keys` None accepts any key (or none); otherwise only those keys."""

    def __init__(self, api_keys: Iterable[str] | None = None) -> None:
        self.api_keys = frozenset(api_keys) if api_keys else None
        self._lock = threading.Lock()
        self._steps: deque[Step] = deque()
        self._requests: list[dict] = []
        self._default_text: str | None = None
        # Set on shutdown so a scripted delay stops waiting instead of holding the server's threads.
        self._closing = threading.Event()

    def script(self, raw_steps: Iterable[Any]) -> int:
        """Queue steps for the next generateContent calls; all or none (a bad step queues nothing)."""
        steps = [parse_step(raw) for raw in raw_steps]
        with self._lock:
            self._steps.extend(steps)
            return len(self._steps)

    def pending_steps(self) -> int:
        with self._lock:
            return len(self._steps)

    def clear_script(self) -> None:
        with self._lock:
            self._steps.clear()

    def set_default(self, raw_answer: dict | None) -> None:
        """`{"text": ...}` or `{"json": ...}` answers every unscripted call from now on; None restores ours."""
        text = None if raw_answer is None else parse_answer(raw_answer)
        with self._lock:
            self._default_text = text

    def record(self, entry: dict) -> dict:
        """Log a request; the caller may still fill in the entry (its status) under `update_record`."""
        with self._lock:
            self._requests.append(entry)
        return entry

    def update_record(self, entry: dict, **fields: Any) -> None:
        with self._lock:
            entry.update(fields)

    def requests(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Forget the script, the log and any default answer set since start."""
        with self._lock:
            self._steps.clear()
            self._requests.clear()
            self._default_text = None

    def close(self) -> None:
        self._closing.set()

    def generate(self, model: str, body: dict) -> tuple[int, dict]:
        """(HTTP status, body) for one generateContent call: the next step, or the default answer."""
        if not isinstance(body.get("contents"), list) or not body["contents"]:
            raise ApiError(400, "* GenerateContentRequest.contents: contents is not specified")
        with self._lock:
            step = self._steps.popleft() if self._steps else Step()
        if step.delay:
            self._closing.wait(step.delay)
        if step.status is not None:
            return step.status, build_error_body(step.status, step.message)
        text = step.text if step.text is not None else self._default_answer(body)
        return 200, build_generation_body(model, body, text)

    def embed(self, request: Any, where: str) -> list[float]:
        """The vector for one EmbedContentRequest (`where` names it in errors, as Google's field paths do)."""
        if not isinstance(request, dict) or not isinstance(request.get("content"), dict):
            raise ApiError(400, f"* {where}.content: content is not specified")
        dimensions = request.get("outputDimensionality", DEFAULT_DIMENSIONS)
        if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
            raise ApiError(400, f"* {where}.output_dimensionality: must be between 1 and {MAX_DIMENSIONS}")
        return embed_text(content_text(request["content"]), dimensions)

    def _default_answer(self, body: dict) -> str:
        with self._lock:
            if self._default_text is not None:
                return self._default_text
        config = body.get("generationConfig") or {}
        schema = config.get("responseJsonSchema") or config.get("responseSchema")
        if isinstance(schema, dict):
            return json.dumps(build_instance(schema), ensure_ascii=False)
        return GREETING

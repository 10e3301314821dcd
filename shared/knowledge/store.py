"""The knowledge base in Chroma, versioned and replaced atomically.

An import fills a new collection named after its content version, then renames a new `active.json` over the old
one (CHROMA_PERSIST_DIR), then deletes the older collections: until that rename, readers keep the previous
version, so a crash half-way changes nothing. active.json also carries the file's structured data, so exact
answers (a price, the address) never depend on a search. Readers re-check it on every use (one stat), so a
long-running processor follows an import made by `clinicbot kb import` without restarting.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.config import Settings, get_settings
from shared.knowledge.chroma import delete_collection, embedder, open_collection, persist_dir, similarity
from shared.knowledge.memory import forget, recall, remember, remember_many
from shared.knowledge.passages import (
    Kind,
    Passage,
    PassageRecord,
    build_passages,
    content_version,
    keyword_overlap,
    service_named_in,
)
from shared.knowledge.schemas import Clinic, Faq, KnowledgeBaseFile, Service

__all__ = ["KnowledgeBase", "KnowledgeBaseInfo", "Passage", "forget", "import_knowledge_base",
           "open_knowledge_base", "recall", "remember", "remember_many"]  # fmt: skip

ACTIVE_FILE = "active.json"
COLLECTION_PREFIX = "kb-"
# Passages embedded per call; progress is reported after each.
BATCH_SIZE = 16
# Search ranks by meaning, plus this much for the query's keywords found in the passage: the small e5 model
# ranks generic FAQs ("como faço para agendar?") near everything, and the word "endereço" should settle it.
KEYWORD_WEIGHT = 0.2
SEARCH_CANDIDATES = 20
# find_service's fallback accepts the closest service only if it is close and clearly closer than the next one
# (calibrated with e5 on local/sample_kb.yaml: right answers >= 0.79 and >= 0.10 ahead; small talk ~0.001 ahead).
SERVICE_MIN_SCORE = 0.75
SERVICE_MIN_MARGIN = 0.05

Signature = tuple[int, int, int]


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    version: str
    collection: str
    imported_at: datetime
    passages: int
    services: int
    insurance: int
    faqs: int
    changed: bool  # False: this content was already the active version, nothing was done


def import_knowledge_base(
    data: KnowledgeBaseFile,
    *,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> KnowledgeBaseInfo:
    """Make `data` the active knowledge base (a no-op if it already is); on any error the previous one stays."""
    settings = settings or get_settings()
    version, tag = content_version(data), embedder(settings).tag
    name, passages = f"{COLLECTION_PREFIX}{version}-{tag}", build_passages(data)
    with _import_lock(persist_dir(settings)):
        active = _read_record(persist_dir(settings))
        if active and active["collection"] == name and _collection_exists(settings, name):
            return _info(active, len(passages), changed=False)
        _fill_collection(settings, name, passages, progress)
        imported_at = datetime.now(UTC).isoformat()
        active = {"version": version, "collection": name, "embedding": tag, "imported_at": imported_at}
        active |= data.model_dump(mode="json")
        _write_record(persist_dir(settings), active)
        _delete_older_collections(settings, keep=name)
    return _info(active, len(passages), changed=True)


@contextmanager
def _import_lock(folder: Path) -> Iterator[None]:
    # Two imports at once would each delete the other's new collection.
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "kb-import.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _collection_exists(settings: Settings, name: str) -> bool:
    from chromadb.errors import NotFoundError

    try:
        open_collection(settings, name)
    except NotFoundError:
        return False
    return True


def _fill_collection(
    settings: Settings, name: str, passages: list[PassageRecord], progress: Callable[[int, int], None] | None
) -> None:
    delete_collection(settings, name)  # a crashed import of this same content may have left half of it
    collection = open_collection(settings, name, create=True)
    try:
        for start in range(0, len(passages), BATCH_SIZE):
            batch = passages[start : start + BATCH_SIZE]
            collection.add(ids=[p.id for p in batch], documents=[p.text for p in batch],
                           metadatas=[p.metadata for p in batch])  # fmt: skip
            if progress:
                progress(start + len(batch), len(passages))
    except BaseException:
        delete_collection(settings, name)
        raise


def _write_record(folder: Path, record: dict[str, Any]) -> None:
    temporary = folder / f".{ACTIVE_FILE}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(record, handle, ensure_ascii=False, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / ACTIVE_FILE)  # the switch: readers see the old file or the new, never half


def _delete_older_collections(settings: Settings, keep: str) -> None:
    from shared.knowledge.chroma import chroma_client

    for collection in chroma_client(settings).list_collections():
        name = collection.name
        if name.startswith(COLLECTION_PREFIX) and name not in (keep, settings.chroma_collection_name):
            delete_collection(settings, name)


def _info(record: dict[str, Any], passages: int, *, changed: bool) -> KnowledgeBaseInfo:
    return KnowledgeBaseInfo(
        version=record["version"],
        collection=record["collection"],
        imported_at=datetime.fromisoformat(record["imported_at"]),
        passages=passages,
        services=len(record["services"]),
        insurance=len(record["insurance"]),
        faqs=len(record["faqs"]),
        changed=changed,
    )


@dataclass(frozen=True)
class _Snapshot:
    """One version's active.json, parsed."""

    version: str
    collection: str
    imported_at: datetime
    data: KnowledgeBaseFile

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> _Snapshot:
        fields = {key: record[key] for key in ("clinic", "services", "insurance", "faqs")}
        imported_at = datetime.fromisoformat(record["imported_at"])
        return cls(record["version"], record["collection"], imported_at, KnowledgeBaseFile.model_validate(fields))


# Per persist folder: active.json's signature when last read, and what it held.
_latest: dict[Path, tuple[Signature, _Snapshot]] = {}


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / ACTIVE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _signature(path: Path) -> Signature | None:
    # os.replace gives every import a new inode: a change is seen even within the clock's resolution.
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _active_snapshot(folder: Path) -> _Snapshot | None:
    signature = _signature(folder / ACTIVE_FILE)
    if signature is None:
        return None
    cached = _latest.get(folder)
    if cached and cached[0] == signature:
        return cached[1]
    record = _read_record(folder)
    if record is None:
        return None
    _latest[folder] = (signature, _Snapshot.from_record(record))
    return _latest[folder][1]


def open_knowledge_base(settings: Settings | None = None) -> KnowledgeBase | None:
    """The active knowledge base, or None if none was ever imported (reads a small JSON file; no Chroma yet)."""
    settings = settings or get_settings()
    snapshot = _active_snapshot(persist_dir(settings))
    return KnowledgeBase(settings, snapshot) if snapshot else None


class KnowledgeBase:
    """The active knowledge base: structured data and search. Each use checks for a newer import first."""

    def __init__(self, settings: Settings, snapshot: _Snapshot) -> None:
        self._settings, self._folder, self._snapshot = settings, persist_dir(settings), snapshot

    def _current(self) -> _Snapshot:
        self._snapshot = _active_snapshot(self._folder) or self._snapshot
        return self._snapshot

    @property
    def version(self) -> str:
        return self._current().version

    @property
    def imported_at(self) -> datetime:
        return self._current().imported_at

    @property
    def clinic(self) -> Clinic:
        return self._current().data.clinic

    @property
    def services(self) -> list[Service]:
        return self._current().data.services

    @property
    def insurance(self) -> list[str]:
        return self._current().data.insurance

    @property
    def faqs(self) -> list[Faq]:
        return self._current().data.faqs

    def search(self, query: str, n: int = 4, *, kind: Kind | None = None) -> list[Passage]:
        """The `n` passages that best answer `query`, best first (optionally only one kind)."""
        return self._search(self._current(), query, n, kind)

    def find_service(self, text: str) -> Service | None:
        """The service a message is about: named in it (accents and case aside), else clearly the closest."""
        snapshot = self._current()
        services = snapshot.data.services
        named = service_named_in(text, services)
        if named or not services:
            return named
        hits = self._search(snapshot, text, 2, "service")
        if not hits or hits[0].score < SERVICE_MIN_SCORE:
            return None
        if len(hits) > 1 and hits[0].score - hits[1].score < SERVICE_MIN_MARGIN:
            return None
        return next((service for service in services if service.name == hits[0].name), None)

    def _search(self, snapshot: _Snapshot, query: str, n: int, kind: Kind | None) -> list[Passage]:
        from chromadb.errors import NotFoundError

        if n < 1 or not query.strip():
            return []
        try:
            return _ranked(open_collection(self._settings, snapshot.collection), query, kind)[:n]
        except NotFoundError:  # another process imported and deleted this version after our check: once more
            newer = self._current()
            if newer.collection == snapshot.collection:
                raise
            return _ranked(open_collection(self._settings, newer.collection), query, kind)[:n]


def _ranked(collection, query: str, kind: Kind | None) -> list[Passage]:
    found = collection.query(query_texts=[query], n_results=SEARCH_CANDIDATES, where={"kind": kind} if kind else None,
                             include=["documents", "metadatas", "distances"])  # fmt: skip
    rows = zip(found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)
    passages = [
        Passage(text, meta["kind"], meta["name"], _blend(similarity(distance), keyword_overlap(query, text)))
        for text, meta, distance in rows
    ]
    return sorted(passages, key=lambda passage: passage.score, reverse=True)


def _blend(meaning: float, keywords: float) -> float:
    return round((1 - KEYWORD_WEIGHT) * meaning + KEYWORD_WEIGHT * keywords, 4)

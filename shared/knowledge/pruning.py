"""Knowledge-base collections that earlier imports left in Chroma, deleted by the housekeeping job.

An import deletes the versions before it once it has switched, but one killed half-way leaves its new collection
behind, and one killed after the switch leaves the old one. Pruning keeps the active version, the one that
`previous_of` names for it (the version before, which a reader that looked before the switch may still be
searching) and every collection that is not a knowledge base (the conversation memory). It holds the import
lock, so a collection an import is filling right now is never taken for a leftover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.config import Settings
from shared.knowledge.chroma import chroma_client, delete_collection, persist_dir

# The store's own lock and record, shared on purpose: pruning must see what an import sees, when it sees it.
from shared.knowledge.store import COLLECTION_PREFIX, _import_lock, _read_record


@dataclass(frozen=True)
class PruneResult:
    active: str
    previous: str | None  # kept besides the active one (None: it is gone, or none was named)
    deleted: list[str]


def prune_knowledge_collections(settings: Settings, previous_of: Callable[[str], str | None] = lambda active: None,
                                ) -> PruneResult | None:  # fmt: skip
    """Delete the knowledge-base collections but the active one and its previous; None when none was imported."""
    folder = persist_dir(settings)
    if _read_record(folder) is None:  # checked first: no knowledge base here, no need to load chromadb
        return None
    with _import_lock(folder):
        active = _read_record(folder)["collection"]
        names = [collection.name for collection in chroma_client(settings).list_collections()]
        spared = {active, settings.chroma_collection_name}
        ours = sorted(name for name in names if name.startswith(COLLECTION_PREFIX) and name not in spared)
        previous = previous_of(active)
        deleted = [name for name in ours if name != previous and delete_collection(settings, name)]
    return PruneResult(active, previous if previous in ours else None, deleted)

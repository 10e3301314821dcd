"""The clinic's knowledge base (a YAML file imported into versioned Chroma collections) and conversation memory.

schemas.py     the YAML file's shape, loaded and validated
passages.py    what gets embedded: one passage per clinic, service, insurance list and FAQ
embeddings.py  e5 (offline) and Gemini embedding functions for Chroma
chroma.py      one Chroma client per persist folder
store.py       import (new collection, then an atomic pointer switch) and the live `KnowledgeBase`
memory.py      per-conversation memory: remember, recall, forget (LGPD erasure)

Nothing here imports chromadb or an embedding model at module level, except embeddings.py, which the others
import only inside functions: keep it that way, so that importing `shared.knowledge` stays cheap.
"""

"""Deterministic text embeddings: a signed, hashed bag of character trigrams, L2-normalised.

Equal texts get equal vectors and texts that share words get close ones, which is all retrieval tests need;
blake2b rather than `hash()` because Python salts string hashes per process.
"""

from __future__ import annotations

import hashlib
import math

DEFAULT_DIMENSIONS = 768
MAX_DIMENSIONS = 3072  # gemini-embedding-001's full size; Google refuses more


def embed_text(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """A unit vector of `dimensions` floats for `text`; case and surrounding blanks do not matter."""
    vector = [0.0] * dimensions
    padded = f"  {' '.join(text.lower().split())} "  # an empty text still has one trigram, so no zero vector
    for start in range(len(padded) - 2):
        digest = hashlib.blake2b(padded[start : start + 3].encode(), digest_size=8).digest()
        number = int.from_bytes(digest, "big")
        vector[number % dimensions] += 1.0 if number >> 63 else -1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]

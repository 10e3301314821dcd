"""Row ids drawn from the seeded generator, so the same seed gives the same ids."""

from __future__ import annotations

import random
import uuid


def new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)

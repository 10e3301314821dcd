"""Edit history of leads and conversations, and the lead's journey (cards 123, 150)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "history",
    __name__,
    url_prefix=f"{API_PREFIX}",
    abp_tags=[Tag(name="history")],
    abp_security=SECURED,
)

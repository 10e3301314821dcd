"""/api/v1/conversations: (being built)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "conversations",
    __name__,
    url_prefix=f"{API_PREFIX}/conversations",
    abp_tags=[Tag(name="conversations")],
    abp_security=SECURED,
)

"""Streamed CSV export of conversations (card 106)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "conversation_export",
    __name__,
    url_prefix=f"{API_PREFIX}/conversations",
    abp_tags=[Tag(name="conversation export")],
    abp_security=SECURED,
)

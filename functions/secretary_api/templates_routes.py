"""Message templates, scripted messages and quick replies (cards 121, 122)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "templates",
    __name__,
    url_prefix=f"{API_PREFIX}/templates",
    abp_tags=[Tag(name="templates")],
    abp_security=SECURED,
)

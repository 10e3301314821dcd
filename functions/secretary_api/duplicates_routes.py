"""Duplicate leads found by phone number, and their merge (card 124)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "lead_duplicates",
    __name__,
    url_prefix=f"{API_PREFIX}/leads",
    abp_tags=[Tag(name="lead duplicates")],
    abp_security=SECURED,
)

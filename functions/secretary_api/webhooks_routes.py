"""Outbound webhooks for other systems (card 113)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "webhooks",
    __name__,
    url_prefix=f"{API_PREFIX}/webhooks",
    abp_tags=[Tag(name="webhooks")],
    abp_security=SECURED,
)

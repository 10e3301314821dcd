"""Permissions per role (card 110)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "permissions",
    __name__,
    url_prefix=f"{API_PREFIX}",
    abp_tags=[Tag(name="permissions")],
    abp_security=SECURED,
)

"""/api/v1/notifications: (being built)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "notifications",
    __name__,
    url_prefix=f"{API_PREFIX}/notifications",
    abp_tags=[Tag(name="notifications")],
    abp_security=SECURED,
)

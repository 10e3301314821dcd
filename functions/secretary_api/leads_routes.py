"""/api/v1/leads: (being built)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "leads", __name__, url_prefix=f"{API_PREFIX}/leads", abp_tags=[Tag(name="leads")], abp_security=SECURED
)

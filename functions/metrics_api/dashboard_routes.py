"""Metrics routes: dashboard (filled in below)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.http import API_PREFIX, SECURED

api = APIBlueprint(
    "metrics_dashboard", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="metrics")], abp_security=SECURED
)

"""(being built)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from shared.http import API_PREFIX

api = APIBlueprint("privacy", __name__, url_prefix=f"{API_PREFIX}")

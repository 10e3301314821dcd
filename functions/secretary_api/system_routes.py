"""/api/v1/health and the API documentation (/api/v1/openapi.json, /api/v1/docs)."""

from pathlib import Path

import flask_openapi3_swagger
from flask import Blueprint, send_from_directory
from flask_openapi3 import APIBlueprint, Tag
from flask_openapi3_swagger.templates import swagger_html_string
from jinja2 import Template

from shared.health import HealthOut, check_health
from shared.http import API_PREFIX
from shared.openapi import build_openapi_document

api = APIBlueprint("system", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="system")])
SWAGGER_ASSETS = Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"
DOCS_PAGE = Template(swagger_html_string).render(doc_url="openapi.json", swagger_config={}, oauth_config=None)

# The documentation itself is not part of the API, so it lives on a plain blueprint outside the document.
docs = Blueprint("docs", __name__, url_prefix=API_PREFIX)


@api.get("/health", responses={200: HealthOut, 503: HealthOut})
def health():
    """200 when Postgres and Redis answer (WAHA is reported, not required), else 503."""
    result = check_health()
    return result.model_dump(), 200 if result.serving else 503


@docs.get("/openapi.json")
def openapi_document():
    return build_openapi_document()


@docs.get("/docs")
def docs_page():
    return DOCS_PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}


@docs.get("/swagger/<path:filename>")
def docs_assets(filename: str):
    return send_from_directory(SWAGGER_ASSETS, filename)

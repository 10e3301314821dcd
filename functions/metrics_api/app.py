"""Builds the metrics API's app from its route modules."""

from functools import cache

from flask_openapi3 import OpenAPI

from functions.metrics_api import (
    dashboard_routes,
    insight_routes,
    leads_routes,
    live_routes,
    money_routes,
    quality_routes,
    response_routes,
    team_routes,
    volume_routes,
)
from shared.api_limits import install_rate_limits
from shared.auth import install_auth
from shared.config import get_settings
from shared.http import create_api

ROUTES = (dashboard_routes, live_routes, volume_routes, response_routes, leads_routes, money_routes, quality_routes,
          team_routes, insight_routes)  # fmt: skip


@cache
def create_app() -> OpenAPI:
    """The function's app, built once per process."""
    get_settings().require("jwt_secret_key")
    app = create_api(__name__, "clinicbot metrics API")
    install_rate_limits(app)
    install_auth(app)
    for module in ROUTES:
        app.register_api(module.api)
    return app

"""Builds the secretary API's app from its route modules."""

from functools import cache

from flask_openapi3 import OpenAPI

from functions.secretary_api import (
    ai_routes,
    audit_routes,
    auth_routes,
    clinic_routes,
    conversations_routes,
    duplicates_routes,
    export_routes,
    feedback_routes,
    history_routes,
    jobs_routes,
    leads_routes,
    notifications_routes,
    permissions_routes,
    privacy_routes,
    queue_routes,
    scheduled_routes,
    system_routes,
    tags_routes,
    templates_routes,
    users_routes,
    waha_routes,
    webhooks_routes,
)
from shared.api_limits import install_rate_limits
from shared.audit.history import install_actor_tracking
from shared.auth import install_auth
from shared.config import get_settings
from shared.http import create_api


@cache
def create_app() -> OpenAPI:
    """The function's app, built once per process (functions-framework and the OpenAPI merge share it)."""
    get_settings().require("jwt_secret_key")
    app = create_api(__name__, "clinicbot secretary API")
    install_rate_limits(app)  # before authentication: a flood of bad tokens is counted too
    install_auth(app)
    install_actor_tracking()  # the edit-history triggers learn which secretary changed a row
    routes = (  # export and duplicates before the routes whose <uuid:...> paths sit beside theirs
        system_routes, auth_routes, users_routes, permissions_routes, waha_routes, queue_routes, export_routes,
        conversations_routes, duplicates_routes, leads_routes, history_routes, notifications_routes,
        scheduled_routes, audit_routes, ai_routes, feedback_routes, privacy_routes, tags_routes, templates_routes,
        webhooks_routes, clinic_routes, jobs_routes,
    )  # fmt: skip
    for module in routes:
        app.register_api(module.api)
    app.register_blueprint(system_routes.docs)
    return app

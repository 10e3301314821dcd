"""Metrics API: the owner's and the secretaries' numbers (read side only), behind /api/v1/{dashboard,metrics,...}."""

import functions_framework

from functions.metrics_api.app import create_app
from shared.http import serve

app = create_app()


@functions_framework.http
def metrics_api(request):
    return serve(app, request)

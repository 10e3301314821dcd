"""Secretary API: auth, users, health and the API documentation, behind /api/v1."""

import functions_framework

from functions.secretary_api.app import create_app
from shared.http import serve

app = create_app()


@functions_framework.http
def secretary_api(request):
    return serve(app, request)

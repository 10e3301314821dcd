"""Webhook intake: WAHA posts every WhatsApp event here (POST /api/v1/webhooks/waha, no JWT; HMAC instead)."""

import functions_framework

from functions.webhook_intake.app import create_app
from shared.http import serve

app = create_app()


@functions_framework.http
def webhook_intake(request):
    return serve(app, request)

"""Webhook intake: WAHA posts every WhatsApp event here (POST /api/v1/webhooks/waha, no JWT; HMAC instead)."""

import functions_framework

from functions.webhook_intake.app import WEBHOOK_PATH, create_app, receive_waha_webhook
from shared.http import answer, serve

app = create_app()


@functions_framework.http
def webhook_intake(request):
    # Every webhook takes the direct path (see `answer`); anything else, a 404 or 405 say, gets the whole app.
    if request.method == "POST" and request.path == WEBHOOK_PATH:
        return answer(app, receive_waha_webhook)
    return serve(app, request)

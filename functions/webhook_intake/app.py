"""The intake's one route: verify the caller, validate the body, store it, answer.

200 `{"status": "received"}` for everything we accept, stored or already stored or ignored: WAHA counts
any 2xx as delivered, and the message is committed by then, so 202 ("accepted, not yet done") would
promise less than we do (card 031 says 200; card 040's 202 predates the durable commit).
"""

from functools import cache

from flask import request
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel, Field

from shared import rate_limit
from shared.config import get_settings
from shared.errors import TooManyRequests
from shared.http import API_PREFIX, client_ip, create_api, error_responses
from shared.whatsapp.intake import handle_webhook
from shared.whatsapp.signature import verify_freshness, verify_signature
from shared.whatsapp.webhooks import parse_webhook

PREFIX, ROUTE = API_PREFIX + "/webhooks", "/waha"
WEBHOOK_PATH = PREFIX + ROUTE  # main.py answers it without a second Flask dispatch
api = APIBlueprint("webhooks", __name__, url_prefix=PREFIX, abp_tags=[Tag(name="webhooks")])


class ReceivedOut(BaseModel):
    status: str = Field(examples=["received"])


@api.post(ROUTE, responses={200: ReceivedOut, **error_responses(401, 422, 429, 503)})
def receive_waha_webhook():
    """WAHA's webhook (body: `WAHAWebhook*` of WAHA 2026.7.1). Signed with X-Webhook-Hmac when a key is set."""
    settings = get_settings()
    allowance = rate_limit.hit("webhook-source", client_ip() or "unknown", settings.webhook_rate_limit_per_source)
    if allowance is not None and not allowance.allowed:
        error = TooManyRequests("Too many webhook requests from this source", retry_after=allowance.reset_seconds)
        error.headers.update(allowance.headers)
        raise error
    body = request.get_data(cache=False)
    if settings.waha_webhook_hmac_key is not None:
        verify_freshness(request.headers.get("X-Webhook-Timestamp"), settings.webhook_timestamp_tolerance_seconds)
        verify_signature(body, request.headers.get("X-Webhook-Hmac"), settings.waha_webhook_hmac_key.get_secret_value())
    handle_webhook(parse_webhook(body), settings=settings)
    headers = allowance.headers if allowance is not None else {}
    return {"status": "received"}, 200, headers


@cache
def create_app() -> OpenAPI:
    """The function's app, built once per process."""
    app = create_api(__name__, "clinicbot webhook intake", check_json=False)
    app.register_api(api)
    return app

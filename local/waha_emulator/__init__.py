"""A WAHA (WhatsApp HTTP API) 2026.7.1 emulator, so developers and tests run without WhatsApp.

It speaks the part of WAHA's API our client uses (sessions and pairing, sends, contacts, lids, media) with
the spec's shapes, and sends signed, retried webhooks shaped like the NOWEB engine's. Control routes under
`/_emulator/` play the patient's phone and inspect or break things; `GET /` is a small phone page.

    python -m local.waha_emulator --port 3000 --api-key K --webhook-url URL --hmac-key K

    with EmulatorServer(port=0, api_key="k", webhook_url=url, hmac_key="h") as waha:
        httpx.post(f"{waha.url}/_emulator/inbound", json={"from": "5511999999999@c.us", "body": "Oi"})
"""

from local.waha_emulator.emulator import Emulator, EmulatorConfig, InboundRequest
from local.waha_emulator.server import DEFAULT_WEBHOOK_EVENTS, EmulatorServer
from local.waha_emulator.webhooks import RetryPolicy

__all__ = ["DEFAULT_WEBHOOK_EVENTS", "Emulator", "EmulatorConfig", "EmulatorServer", "InboundRequest", "RetryPolicy"]

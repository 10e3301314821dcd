"""`python -m local.waha_emulator --port 3000 [--api-key K] [--webhook-url URL] [--hmac-key K] ...`"""

from __future__ import annotations

import argparse
import logging

from local.serving import serve_until_signalled
from local.waha_emulator.emulator import DEFAULT_ME_PHONE
from local.waha_emulator.server import DEFAULT_WEBHOOK_EVENTS, EmulatorServer
from local.waha_emulator.webhooks import RetryPolicy


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.waha_emulator", description="A WAHA 2026.7.1 emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--api-key", help="require this X-Api-Key on WAHA's routes")
    parser.add_argument("--webhook-url", help="the default session's webhook")
    parser.add_argument("--hmac-key", help="sign that webhook (X-Webhook-Hmac, sha512)")
    parser.add_argument("--webhook-events", default=",".join(DEFAULT_WEBHOOK_EVENTS), help="comma-separated")
    parser.add_argument("--session", default="default", help="created at start; '' for none")
    parser.add_argument("--start-session", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--auto-scan", action=argparse.BooleanOptionalAction, default=True,
                        help="pair (scan the QR code) by itself shortly after SCAN_QR_CODE")  # fmt: skip
    parser.add_argument("--auto-scan-delay", type=float, default=1.0, help="seconds")
    parser.add_argument("--retry-attempts", type=int, default=15, help="webhook retries after the first try")
    parser.add_argument("--retry-delay", type=float, default=2.0, help="seconds")
    parser.add_argument("--retry-policy", choices=["constant", "linear", "exponential"], default="constant")
    parser.add_argument("--media-ttl", type=float, default=180.0, help="seconds a media file stays downloadable")
    parser.add_argument("--public-url", help="the emulator's URL as webhook receivers reach it (media links)")
    parser.add_argument("--me-phone", default=DEFAULT_ME_PHONE, help="the clinic's number on the default session")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # each delivery is already logged once, by the emulator
    logging.getLogger("werkzeug").setLevel(args.log_level.upper())  # werkzeug would log every request at INFO
    server = EmulatorServer(
        args.host, args.port, args.api_key, args.webhook_url, args.hmac_key,
        session=args.session or None, start_session=args.start_session,
        webhook_events=[event.strip() for event in args.webhook_events.split(",") if event.strip()],
        auto_scan=args.auto_scan, auto_scan_delay=args.auto_scan_delay,
        retries=RetryPolicy(args.retry_attempts, args.retry_delay, args.retry_policy),
        media_ttl=args.media_ttl, public_url=args.public_url, me_phone=args.me_phone,
    )  # fmt: skip
    serve_until_signalled(server)


if __name__ == "__main__":
    main()

"""`EmulatorServer`: the emulator on a werkzeug server in a background thread, for tests and the local stack."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from werkzeug.serving import make_server

from local.waha_emulator.app import create_app
from local.waha_emulator.emulator import DEFAULT_ME_PHONE, Emulator, EmulatorConfig
from local.waha_emulator.webhooks import RetryPolicy

logger = logging.getLogger(__name__)

# What the default session's webhook (from --webhook-url) subscribes to: both message events, like our
# intake does, so the duplicates it must de-duplicate really arrive.
DEFAULT_WEBHOOK_EVENTS = ("message", "message.any", "message.ack", "session.status")


class EmulatorServer:
    """A WAHA emulator on `host:port` (port 0 picks a free one); `.url` is where it answers."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3000,
        api_key: str | None = None,
        webhook_url: str | None = None,
        hmac_key: str | None = None,
        *,
        session: str | None = "default",
        start_session: bool = True,
        webhook_events: Iterable[str] = DEFAULT_WEBHOOK_EVENTS,
        auto_scan: bool = True,
        auto_scan_delay: float = 1.0,
        boot_delay: float = 0.2,
        ack_delay: float = 0.3,
        retries: RetryPolicy | None = None,
        media_ttl: float = 180.0,
        public_url: str | None = None,
        me_phone: str = DEFAULT_ME_PHONE,
    ) -> None:
        # The app needs the URL (media links) and the URL needs the bound port: bind first, plug the app in after.
        self._app: Callable | None = None
        self._server = make_server(host, port, self._dispatch, threaded=True)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - naming, not binding
        self.url = f"http://{shown_host}:{self._server.server_port}"
        config = EmulatorConfig(
            public_url=(public_url or self.url).rstrip("/"), default_session=session or "default", me_phone=me_phone,
            boot_delay=boot_delay, auto_scan_delay=auto_scan_delay if auto_scan else None, ack_delay=ack_delay,
            media_ttl=media_ttl, retries=retries or RetryPolicy(),
        )  # fmt: skip
        self.emulator = Emulator(config)
        self._app = create_app(self.emulator, api_key)
        self._api_key_set = api_key is not None
        self._session = session
        self._start_session = start_session
        self._webhook = {"url": webhook_url, "events": list(webhook_events)} if webhook_url else None
        if self._webhook and hmac_key:
            self._webhook["hmac"] = {"key": hmac_key}
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Serve in a background thread and create (and start) the default session."""
        self._thread = threading.Thread(target=self._serve, name="waha-emulator", daemon=True)
        self._thread.start()
        logger.info(
            "WAHA emulator on %s (api key %s, webhook %s, hmac %s)",
            self.url,
            "required" if self._api_key_set else "not required",
            self._webhook["url"] if self._webhook else "none",
            "on" if self._webhook and "hmac" in self._webhook else "off",
        )
        if self._session:
            config = {"webhooks": [self._webhook]} if self._webhook else {}
            self.emulator.sessions.create(self._session, config, start=self._start_session)
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def _dispatch(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        assert self._app is not None
        return self._app(environ, start_response)

"""`EmulatorServer`: the Gemini emulator on a werkzeug server in a background thread, for tests and the local stack."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import make_server

from local.gemini_emulator.app import create_app
from local.gemini_emulator.emulator import GeminiEmulator

logger = logging.getLogger(__name__)

_UNSET: Any = object()  # `set_default(json=None)` means the JSON null, so "not given" needs its own marker


class EmulatorServer:
    """A Gemini emulator on `host:port` (port 0 picks a free one); `.url` is the SDK's `base_url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8090, api_keys: Iterable[str] | None = None) -> None:
        self.emulator = GeminiEmulator(api_keys)
        self._server = make_server(host, port, create_app(self.emulator), threaded=True)
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - naming, not binding
        self.url = f"http://{shown_host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._serve, name="gemini-emulator", daemon=True)
        self._thread.start()
        keys = "any api key" if self.emulator.api_keys is None else f"{len(self.emulator.api_keys)} api key(s)"
        logger.info("Gemini emulator on %s (%s)", self.url, keys)
        return self

    def stop(self) -> None:
        self.emulator.close()  # first, so a scripted delay lets its thread go
        if self._thread is not None:  # shutdown() would wait forever for a loop that never ran
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, *steps: dict) -> int:
        """Queue answers for the next generateContent calls (see `local.gemini_emulator.script`); -> pending."""
        return self.emulator.script(steps)

    def clear_script(self) -> None:
        self.emulator.clear_script()

    def requests(self) -> list[dict]:
        """Every API request so far, oldest first: method, path, version, model, action, api_key, body, status."""
        return self.emulator.requests()

    def clear_requests(self) -> None:
        self.emulator.clear_requests()

    def set_default(self, *, text: str | None = None, json: Any = _UNSET) -> None:
        """Answer unscripted calls with `text` or `json` from now on; with neither, the built-in answer again."""
        if text is not None and json is not _UNSET:
            raise ValueError("set_default takes text or json, not both")
        answer = {"text": text} if text is not None else None if json is _UNSET else {"json": json}
        self.emulator.set_default(answer)

    def reset(self) -> None:
        self.emulator.reset()

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

"""How an emulator runs as `python -m local.<name>`: start, block until SIGINT or SIGTERM, stop.

Its own module, importing nothing heavy: local.servers pulls in the Postgres and Redis clients, which would double an
emulator's start-up.
"""

from __future__ import annotations

import signal
import threading
from typing import Protocol


class Startable(Protocol):
    def start(self) -> object: ...

    def stop(self) -> object: ...


def serve_until_signalled(server: Startable) -> None:
    """Start an emulator server, block until SIGINT or SIGTERM, then stop it."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    server.start()
    stopping.wait()
    server.stop()

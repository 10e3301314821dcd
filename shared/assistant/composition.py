"""The message processor's composition root: one set of turn collaborators per process and configuration."""

from __future__ import annotations

import threading

from shared.assistant.context import TurnServices, build_turn_services
from shared.config import Settings, get_settings

_lock = threading.Lock()
_built: tuple[Settings, TurnServices] | None = None


def turn_services() -> TurnServices:
    """The turn's collaborators, built on first use (the classifier and Chroma load once) and again only when
    the settings object changes (the local stack and the tests switch configuration at run time)."""
    global _built
    settings = get_settings()
    with _lock:
        if _built is None or _built[0] is not settings:
            _built = (settings, build_turn_services(settings))
        return _built[1]

"""Raising operational alerts for the owner to see (WAHA session down, a chat flooding the bot, ...)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from shared.alerts.models import Alert, AlertSeverity

log = logging.getLogger(__name__)


def raise_alert(session: Session, kind: str, severity: AlertSeverity, message: str, **details: Any) -> Alert:
    """Record an alert in the current unit of work and log it."""
    alert = Alert(kind=kind, severity=severity, message=message, details=details)
    session.add(alert)
    log.warning("alert %s: %s", kind, message, extra={"alert": kind, "severity": severity.value})
    return alert

"""The events an outbound webhook can carry, one dotted name each (STYLE rule 9)."""

from __future__ import annotations

from typing import Literal

LEAD_CREATED = "lead.created"
CONVERSATION_CLOSED = "conversation.closed"
MESSAGE_RECEIVED = "message.received"
# Sent on request to one endpoint, whatever it subscribed to; nobody subscribes to it.
PING = "ping"

SUBSCRIBABLE = (LEAD_CREATED, CONVERSATION_CLOSED, MESSAGE_RECEIVED)
SubscribableEvent = Literal[SUBSCRIBABLE]  # the request schemas' enum: any other name is a 422

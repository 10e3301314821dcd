"""What arrived, in memory and in order: each message parsed once, its attachments kept as bytes; thread-safe."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


@dataclass(frozen=True)
class StoredAttachment:
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StoredMail:
    id: int
    mail_from: str
    to: list[str]  # the envelope's recipients: who it was delivered to, Bcc included
    subject: str
    received_at: datetime
    text: str | None
    attachments: list[StoredAttachment]
    tls: bool  # the session had gone through STARTTLS
    authenticated_as: str | None  # the AUTH login, if any
    raw: bytes = field(repr=False)


def _plain_text(message: EmailMessage) -> str | None:
    body = message.get_body(preferencelist=("plain",))
    return None if body is None else body.get_content().replace("\r\n", "\n")  # SMTP's line ends, not the text's


def _attachments(message: EmailMessage) -> list[StoredAttachment]:
    return [
        StoredAttachment(part.get_filename(), part.get_content_type(), part.get_payload(decode=True) or b"")
        for part in message.iter_attachments()
    ]


class Mailbox:
    """Messages oldest first; ids keep counting across `clear`, so an old link never serves a newer message."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[StoredMail] = []
        self._last_id = 0

    def deliver(self, mail_from: str, recipients: list[str], raw: bytes, *, tls: bool = False,
                authenticated_as: str | None = None) -> StoredMail:  # fmt: skip
        message = BytesParser(policy=policy.default).parsebytes(raw)
        with self._lock:
            self._last_id += 1
            stored = StoredMail(
                id=self._last_id, mail_from=mail_from, to=list(recipients), subject=str(message["subject"] or ""),
                received_at=datetime.now(UTC), text=_plain_text(message), attachments=_attachments(message), tls=tls,
                authenticated_as=authenticated_as, raw=raw,
            )  # fmt: skip
            self._messages.append(stored)
        return stored

    def messages(self, recipient: str | None = None) -> list[StoredMail]:
        """Oldest first; with `recipient`, only those delivered to that address (any case)."""
        with self._lock:
            messages = list(self._messages)
        if recipient is None:
            return messages
        wanted = recipient.lower()
        return [mail for mail in messages if wanted in (address.lower() for address in mail.to)]

    def get(self, mail_id: int) -> StoredMail | None:
        with self._lock:
            return next((mail for mail in self._messages if mail.id == mail_id), None)

    def clear(self) -> int:
        with self._lock:
            count = len(self._messages)
            self._messages.clear()
        return count

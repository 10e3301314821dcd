"""The SMTP side: aiosmtpd with STARTTLS required before MAIL and AUTH, PLAIN and LOGIN, into the mailbox.

Recipients in the reserved `.invalid` top-level domain (RFC 2606) are refused, so tests reach the sender's error
paths through the real protocol: `@busy.invalid` answers 450 (try again later), any other `.invalid` address 550.
"""

from __future__ import annotations

import hmac
import logging
import socket
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from local.mail_catcher.mailbox import Mailbox

logger = logging.getLogger(__name__)


class _WithoutLoginDataWarning(logging.Filter):
    """aiosmtpd 1.4 warns at every successful AUTH that it set its own deprecated `Session.login_data`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_WithoutLoginDataWarning())

SERVER_NAME = "mail-catcher.clinicbot.local"  # what EHLO answers; saves aiosmtpd a getfqdn() DNS look-up
BUSY_DOMAIN = "busy.invalid"


def recipient_refusal(address: str) -> str | None:
    """The reply that refuses `address`, or None to accept it."""
    domain = address.rpartition("@")[2].lower()
    if domain == BUSY_DOMAIN:
        return "450 4.2.1 Mailbox busy, try again later"
    if domain == "invalid" or domain.endswith(".invalid"):
        return "550 5.1.1 Mailbox unavailable"
    return None


class CatcherHandler:
    """aiosmtpd's handler hooks: refuse the `.invalid` recipients, keep every message that arrives."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = recipient_refusal(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        login = session.auth_data.login.decode(errors="replace") if session.authenticated else None
        stored = self.mailbox.deliver(envelope.mail_from or "", envelope.rcpt_tos, envelope.original_content or b"",
                                      tls=session.ssl is not None, authenticated_as=login)  # fmt: skip
        logger.info("mail %d from %s to %s: %r", stored.id, stored.mail_from, ", ".join(stored.to), stored.subject)
        return f"250 2.0.0 OK: queued as {stored.id}"


class Credentials:
    """aiosmtpd's authenticator: only `username` / `password`, compared in constant time; None accepts anyone."""

    def __init__(self, username: str | None, password: str | None) -> None:
        self._expected = None if password is None else ((username or "").encode(), password.encode())

    @property
    def required(self) -> bool:
        return self._expected is not None

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if self._expected is None:
            return AuthResult(success=True, auth_data=auth_data)
        login, password = self._expected
        accepted = hmac.compare_digest(auth_data.login, login) & hmac.compare_digest(auth_data.password, password)
        if not accepted:
            logger.warning("AUTH %s refused for %r", mechanism, auth_data.login.decode(errors="replace"))
        return AuthResult(success=accepted, handled=False, auth_data=auth_data if accepted else None)


class BoundController(Controller):
    """aiosmtpd's threaded Controller on a socket bound beforehand, so port 0 works and the port is known early."""

    def __init__(self, handler: CatcherHandler, listening: socket.socket, **smtp_options: object) -> None:
        self._listening = listening
        host, port = listening.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp_options)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._listening)


def bind_smtp_socket(host: str, port: int) -> socket.socket:
    """Bound, not listening yet: aiosmtpd's server listens on it when it starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off only on sockets that say they are TCP, and with Nagle on each
    # multi-line reply (EHLO) waits out the client's delayed ACK, 40 ms a time.
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.setblocking(False)
    return listening


def build_controller(mailbox: Mailbox, listening: socket.socket, tls: ssl.SSLContext,
                     credentials: Credentials) -> BoundController:  # fmt: skip
    return BoundController(
        CatcherHandler(mailbox), listening, server_hostname=SERVER_NAME, tls_context=tls, require_starttls=True,
        authenticator=credentials, auth_required=credentials.required, auth_require_tls=True,
    )  # fmt: skip

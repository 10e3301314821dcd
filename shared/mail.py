"""Outgoing e-mail over SMTP (standard library `smtplib`): compose a message with attachments, submit it.

Each send is one connection: EHLO, STARTTLS (certificate and host name verified, against SMTP_CA_FILE when set),
EHLO again, AUTH when a username is configured, the message, QUIT. Nothing is retried here; the error says
whether the caller should try again later (its queue retries the task) or give up:

ClinicbotError
└── MailError                 carries the SMTP code when there was one; never the password
    ├── MailUnreachable       no connection, a timeout, a dropped line, TLS refused or not offered    (transient)
    ├── MailAuthFailed        the server refused the username or password                            (transient)
    ├── MailDeferred          a 4xx answer: greylisting, a full mailbox, a busy server               (transient)
    └── MailRejected          a 5xx answer: every recipient refused, or the sender or message refused

A wrong password or an untrusted certificate is the configuration's fault, not the message's: it is transient, so
the report waits in the queue (or in failed_tasks, re-run by the tick) until the setting is fixed, instead of
being dropped. Only what the server refuses about the message itself (5xx) is final.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr

from shared.config import Settings, get_settings
from shared.errors import ClinicbotError, ConfigurationError

logger = logging.getLogger(__name__)


class MailError(ClinicbotError):
    """Base of every failed send."""

    transient = True

    def __init__(self, detail: str, *, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class MailUnreachable(MailError):
    pass


class MailAuthFailed(MailError):
    pass


class MailDeferred(MailError):
    pass


class MailRejected(MailError):
    transient = False

    def __init__(self, detail: str, *, code: int | None = None,
                 refused: dict[str, tuple[int, str]] | None = None) -> None:  # fmt: skip
        super().__init__(detail, code=code)
        self.refused = refused or {}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class MailSent:
    message_id: str
    accepted: list[str]
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)  # some refused, the others got it


def compose_email(sender: str, to: Sequence[str], subject: str, text: str, *, html: str | None = None,
                  attachments: Iterable[Attachment] = (), reply_to: str | None = None) -> EmailMessage:  # fmt: skip
    """A MIME message: the plain text (and an HTML alternative), then the attachments."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)  # fmt: skip
    return message


def _recipients(message: EmailMessage) -> list[str]:
    pairs = getaddresses([str(value) for header in ("To", "Cc", "Bcc") for value in message.get_all(header, [])])
    return [address for _, address in pairs if address]


def _error_for_code(code: int, detail: str, refused: dict[str, tuple[int, str]] | None = None) -> MailError:
    if 400 <= code < 500:
        return MailDeferred(detail, code=code)
    return MailRejected(detail, code=code, refused=refused)


def _refused_error(where: str, refused: dict[str, tuple[int, str]]) -> MailError:
    listed = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in refused.items())
    code = min(code for code, _ in refused.values())  # one 4xx among them: trying again may still deliver
    return _error_for_code(code, f"{where} refused every recipient ({listed})", refused)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


class SmtpMailer:
    """Submits messages to one SMTP server; `sender` is the configured From."""

    def __init__(self, host: str, port: int = 587, *, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = True, ca_file: str | None = None,
                 timeout: float = 30.0) -> None:  # fmt: skip
        self.host, self.port, self.sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._ca_file, self._timeout = starttls, ca_file, timeout

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SmtpMailer:
        settings = settings or get_settings()
        settings.require("smtp_host", "smtp_from")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from, username=settings.smtp_username,
                   password=password, starttls=settings.smtp_starttls, ca_file=settings.smtp_ca_file,
                   timeout=settings.smtp_timeout_seconds)  # fmt: skip

    @property
    def where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    def send(self, message: EmailMessage) -> MailSent:
        """Submit `message` to its To, Cc and Bcc (Bcc is not transmitted); raises a MailError on failure."""
        recipients = _recipients(message)
        if not recipients:
            raise ValueError("the message has no recipient")
        if message["From"] is None:
            message["From"] = self.sender
        context = self._tls_context() if self._starttls else None
        try:
            refused = self._submit(message, context)
        except MailError as error:
            logger.warning("mail not sent", extra={"smtp": self.where, "smtp_code": error.code,
                                                   "error": str(error), "transient": error.transient})  # fmt: skip
            raise
        sent = MailSent(str(message["Message-ID"] or ""), [r for r in recipients if r not in refused],
                        {address: (code, _text(reply)) for address, (code, reply) in refused.items()})  # fmt: skip
        logger.info("mail sent", extra={"smtp": self.where, "message_id": sent.message_id,
                                        "recipients": len(sent.accepted), "refused": sorted(sent.refused)})  # fmt: skip
        return sent

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self._ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"SMTP_CA_FILE {self._ca_file!r} cannot be read as PEM: {exc}") from None

    def _submit(self, message: EmailMessage, context: ssl.SSLContext | None) -> dict:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout) as smtp:
                smtp.ehlo()
                if context is not None:
                    self._start_tls(smtp, context)
                if self._username:
                    smtp.login(self._username, self._password or "")
                return smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            detail = f"{self.where} refused the login of {self._username!r}: {exc.smtp_code} {_text(exc.smtp_error)}"
            raise MailAuthFailed(detail, code=exc.smtp_code) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused_error(self.where, exc.recipients) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, a 421 at any point
            detail = f"{self.where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
            raise _error_for_code(exc.smtp_code, detail) from None
        except ssl.SSLCertVerificationError as exc:
            raise MailUnreachable(f"{self.where}: its TLS certificate is not trusted ({exc.verify_message}); "
                                  "SMTP_CA_FILE names the CA to trust instead of the system's") from None  # fmt: skip
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, dropped, no AUTH offered...
            raise MailUnreachable(f"{self.where}: {type(exc).__name__}: {exc}") from None

    def _start_tls(self, smtp: smtplib.SMTP, context: ssl.SSLContext) -> None:
        if not smtp.has_extn("starttls"):
            raise MailUnreachable(f"{self.where} does not offer STARTTLS; nothing is sent in clear (SMTP_STARTTLS)")
        smtp.starttls(context=context)
        smtp.ehlo()

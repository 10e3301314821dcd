"""`MailCatcherServer`: SMTP (aiosmtpd's own thread and loop) and the HTTP API (werkzeug, a thread) in one process."""

from __future__ import annotations

import logging
import socket
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from local.mail_catcher.app import create_app
from local.mail_catcher.certificate import CertificateFiles, build_server_context, write_self_signed_certificate
from local.mail_catcher.mailbox import Mailbox, StoredMail
from local.mail_catcher.smtp import Credentials, bind_smtp_socket, build_controller

logger = logging.getLogger(__name__)


class MailCatcherServer:
    """SMTP on `host:smtp_port` and the API on `host:http_port` (0 picks a free one); `.url` is the API's base.

    `certificate`: the PEM files STARTTLS serves; without them a fresh pair is written to a temporary folder.
    Either way `.certificate_path` is what a client trusts (SMTP_CA_FILE). `smtp_fd` / `http_fd`: sockets the
    parent already listens on (the local stack's), used instead of binding the ports.
    """

    def __init__(self, host: str = "127.0.0.1", smtp_port: int = 1025, http_port: int = 8025, *,
                 username: str | None = None, password: str | None = None,
                 certificate: CertificateFiles | None = None, smtp_fd: int | None = None,
                 http_fd: int | None = None) -> None:  # fmt: skip
        self._scratch: tempfile.TemporaryDirectory | None = None
        if certificate is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="mail-catcher-")
            folder = Path(self._scratch.name)
            certificate = write_self_signed_certificate(folder / "cert.pem", folder / "key.pem", host)
        self.certificate_path = certificate.certificate
        self.mailbox = Mailbox()
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - naming, not binding
        self._listening = bind_smtp_socket(host, smtp_port) if smtp_fd is None else socket.socket(fileno=smtp_fd)
        self.smtp_host, self.smtp_port = shown_host, self._listening.getsockname()[1]
        self._credentials = Credentials(username, password)
        self._controller = build_controller(self.mailbox, self._listening, build_server_context(certificate),
                                            self._credentials)  # fmt: skip
        self._http = make_server(host, http_port, create_app(self.mailbox), threaded=True, fd=http_fd)
        self.url = f"http://{shown_host}:{self._http.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> MailCatcherServer:
        self._controller.start()
        self._thread = threading.Thread(target=self._serve, name="mail-catcher-http", daemon=True)
        self._thread.start()
        auth = "AUTH required" if self._credentials.required else "any AUTH accepted"
        logger.info("mail catcher: SMTP %s:%d (STARTTLS, %s), API %s/_emulator/mail", self.smtp_host,
                    self.smtp_port, auth, self.url)  # fmt: skip
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a loop that never ran
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._controller.stop()
        self._http.server_close()
        self._listening.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> MailCatcherServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def messages(self, recipient: str | None = None) -> list[StoredMail]:
        """What arrived, oldest first (the API's `GET /_emulator/mail`, without HTTP)."""
        return self.mailbox.messages(recipient)

    def clear(self) -> int:
        return self.mailbox.clear()

    def _serve(self) -> None:
        self._http.serve_forever(poll_interval=0.05)

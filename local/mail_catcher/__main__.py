"""`python -m local.mail_catcher [--smtp-port 1025] [--http-port 8025] [--username U --password P] ...`"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from local.mail_catcher.certificate import CertificateFiles
from local.mail_catcher.server import MailCatcherServer
from local.serving import serve_until_signalled


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.mail_catcher", description="A local SMTP mail catcher.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025, help="the API (/_emulator/mail)")
    parser.add_argument("--username", help="the only user AUTH accepts (with --password)")
    parser.add_argument("--password", help="require AUTH with this password; without it any AUTH passes")
    parser.add_argument("--cert-file", type=Path, help="PEM certificate for STARTTLS (with --key-file)")
    parser.add_argument("--key-file", type=Path, help="its PEM key; without both, a self-signed pair is made")
    parser.add_argument("--smtp-fd", type=int, help="an inherited socket already listening, instead of --smtp-port")
    parser.add_argument("--http-fd", type=int, help="an inherited socket already listening, instead of --http-port")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if (args.cert_file is None) != (args.key_file is None):
        parser.error("--cert-file and --key-file go together")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(args.log_level.upper())  # werkzeug would log every request at INFO
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's: every SMTP line at INFO
    certificate = CertificateFiles(args.cert_file, args.key_file) if args.cert_file else None
    server = MailCatcherServer(args.host, args.smtp_port, args.http_port, username=args.username,
                               password=args.password, certificate=certificate, smtp_fd=args.smtp_fd,
                               http_fd=args.http_fd)  # fmt: skip
    serve_until_signalled(server)


if __name__ == "__main__":
    main()

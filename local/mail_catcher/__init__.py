"""A local mail catcher: an SMTP server (aiosmtpd) that keeps what it receives, and an HTTP API to read it.

SMTP speaks what a real submission server does: EHLO, STARTTLS (required before MAIL and AUTH; a self-signed
certificate made at start), AUTH PLAIN and LOGIN against the configured user and password, 4xx/5xx refusals
for `.invalid` recipients (see `smtp`). The API (`app`) lists what arrived under `/_emulator/mail` and serves
each attachment's bytes.

    python -m local.mail_catcher --smtp-port 1025 --http-port 8025 --username U --password P

    from local.mail_catcher.server import MailCatcherServer

    with MailCatcherServer(smtp_port=0, http_port=0, username="u", password="p") as catcher:
        ...  # send to catcher.smtp_host:catcher.smtp_port, trusting catcher.certificate_path
        catcher.messages()  # or GET f"{catcher.url}/_emulator/mail"

Nothing is imported here: the local stack writes the certificate (`certificate`) without loading Flask and aiosmtpd.
"""

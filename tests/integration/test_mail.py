"""shared.mail against the real mail catcher: STARTTLS with a verified certificate, AUTH, a pt-BR report with a PDF
attached, read back through the catcher's HTTP API; refusals and failures classed as final or worth retrying."""

from __future__ import annotations

import logging
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
import pytest

from local.mail_catcher.certificate import write_self_signed_certificate
from local.mail_catcher.server import MailCatcherServer
from local.servers import stop_process
from shared.config import Settings
from shared.mail import (
    Attachment,
    MailAuthFailed,
    MailDeferred,
    MailRejected,
    MailUnreachable,
    SmtpMailer,
    compose_email,
)

USERNAME = "relatorios"
PASSWORD = secrets.token_urlsafe(16)
SENDER = "Clínica São Lucas <relatorios@clinica-sao-lucas.com.br>"
HTTP = httpx.Client(timeout=5.0)  # one client: each of its own would build a TLS context first
OWNER, PARTNER = "dona.marcia@clinica-sao-lucas.com.br", "dr.joao@clinica-sao-lucas.com.br"


@pytest.fixture(scope="module")
def catcher() -> Iterator[MailCatcherServer]:
    with MailCatcherServer(smtp_port=0, http_port=0, username=USERNAME, password=PASSWORD) as server:
        yield server


@pytest.fixture(autouse=True)
def empty_mailbox(catcher: MailCatcherServer) -> None:
    catcher.clear()


def settings_for(catcher: MailCatcherServer, **overrides: object) -> Settings:
    values = {
        "database_url": "postgresql+pg8000://unused@127.0.0.1/unused", "redis_url": "redis://127.0.0.1:1/0",
        "environment": "local", "smtp_host": catcher.smtp_host, "smtp_port": catcher.smtp_port,
        "smtp_username": USERNAME, "smtp_password": PASSWORD, "smtp_from": SENDER,
        "smtp_ca_file": str(catcher.certificate_path), "smtp_timeout_seconds": 5,
    }  # fmt: skip
    return Settings(_env_file=None, **(values | overrides))


REPORT_TEXT = "Olá, Dona Márcia!\n\nSegue o relatório da semana, com o volume de mensagens e a conversão.\n"


def report(to: list[str], pdf: bytes = b"%PDF-1.7\n") -> EmailMessage:
    attachment = Attachment("relatório-semana-10.pdf", pdf, "application/pdf")
    return compose_email(SENDER, to, "Relatório semanal: 3 a 9 de março", REPORT_TEXT, attachments=[attachment])


def test_a_report_goes_through_starttls_and_auth_and_the_api_serves_it_back(catcher):
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + secrets.token_bytes(20_000) + b"\n%%EOF\n"
    message = report([OWNER, PARTNER], pdf)
    before = datetime.now(UTC)

    sent = SmtpMailer.from_settings(settings_for(catcher)).send(message)

    assert sent.accepted == [OWNER, PARTNER] and sent.refused == {}
    listing = HTTP.get(f"{catcher.url}/_emulator/mail")
    assert listing.status_code == 200
    [mail] = listing.json()["items"]
    assert mail["to"] == [OWNER, PARTNER] and mail["from"] == "relatorios@clinica-sao-lucas.com.br"
    assert mail["subject"] == "Relatório semanal: 3 a 9 de março"
    assert mail["text"] == REPORT_TEXT
    assert (mail["tls"], mail["authenticated_as"]) == (True, USERNAME)
    received_at = datetime.fromisoformat(mail["received_at"])
    assert received_at.utcoffset().total_seconds() == 0 and before <= received_at <= datetime.now(UTC)
    [attachment] = mail["attachments"]
    assert {k: attachment[k] for k in ("filename", "content_type", "size")} == {
        "filename": "relatório-semana-10.pdf", "content_type": "application/pdf", "size": len(pdf)}  # fmt: skip
    served = HTTP.get(attachment["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "application/pdf"
    assert served.content == pdf
    assert sent.message_id and sent.message_id in HTTP.get(f"{catcher.url}/_emulator/mail/{mail['id']}/raw").text


def test_the_listing_is_oldest_first_filters_by_recipient_and_empties(catcher):
    mailer = SmtpMailer.from_settings(settings_for(catcher))
    for recipients in ([OWNER], [PARTNER], [OWNER, PARTNER]):
        mailer.send(report(recipients))

    everything = HTTP.get(f"{catcher.url}/_emulator/mail").json()["items"]
    assert [mail["to"] for mail in everything] == [[OWNER], [PARTNER], [OWNER, PARTNER]]
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)
    partner = HTTP.get(f"{catcher.url}/_emulator/mail", params={"to": PARTNER.upper()}).json()["items"]
    assert [mail["id"] for mail in partner] == [everything[1]["id"], everything[2]["id"]]
    assert HTTP.get(f"{catcher.url}/_emulator/mail/{everything[0]['id']}/attachments/1").status_code == 404

    assert HTTP.delete(f"{catcher.url}/_emulator/mail").json() == {"deleted": 3}
    assert HTTP.get(f"{catcher.url}/_emulator/mail").json() == {"items": []}
    assert HTTP.get(everything[0]["attachments"][0]["url"]).status_code == 404


def test_a_refused_recipient_is_final(catcher):
    mailer = SmtpMailer.from_settings(settings_for(catcher))

    with pytest.raises(MailRejected) as refused:
        mailer.send(report(["ninguem@clinica.invalid"]))

    assert refused.value.transient is False and refused.value.code == 550
    assert list(refused.value.refused) == ["ninguem@clinica.invalid"]
    assert catcher.messages() == []


def test_one_refused_recipient_among_others_is_reported_and_the_rest_delivered(catcher):
    sent = SmtpMailer.from_settings(settings_for(catcher)).send(report([OWNER, "ninguem@clinica.invalid"]))

    assert sent.accepted == [OWNER] and sent.refused["ninguem@clinica.invalid"][0] == 550
    assert [mail.to for mail in catcher.messages()] == [[OWNER]]


def test_a_busy_mailbox_is_worth_retrying(catcher):
    with pytest.raises(MailDeferred) as deferred:
        SmtpMailer.from_settings(settings_for(catcher)).send(report(["lotada@busy.invalid"]))

    assert deferred.value.transient is True and deferred.value.code == 450


def test_a_wrong_password_is_worth_retrying_and_no_password_reaches_the_logs(catcher, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "senha-errada-" + secrets.token_urlsafe(8)

    with pytest.raises(MailAuthFailed) as refused:
        SmtpMailer.from_settings(settings_for(catcher, smtp_password=wrong)).send(report([OWNER]))
    right = settings_for(catcher)
    SmtpMailer.from_settings(right).send(report([OWNER]))

    assert refused.value.transient is True and refused.value.code == 535
    assert PASSWORD in right.secret_values  # so the JSON log formatter masks it wherever it turns up
    records = [(r.name, r.getMessage()) for r in caplog.records if r.name == "shared.mail"]
    assert records == [("shared.mail", "mail not sent"), ("shared.mail", "mail sent")]
    logged = caplog.text + " ".join(str(vars(record)) for record in caplog.records)
    assert wrong not in logged and PASSWORD not in logged and wrong not in str(refused.value)
    assert [mail.to for mail in catcher.messages()] == [[OWNER]]


def test_the_certificate_is_verified(catcher):
    untrusted = SmtpMailer.from_settings(settings_for(catcher, smtp_ca_file=None))  # the system's CAs only

    with pytest.raises(MailUnreachable, match="not trusted") as error:
        untrusted.send(report([OWNER]))

    assert error.value.transient is True and catcher.messages() == []


def test_the_catcher_takes_nothing_before_starttls(catcher):
    clear = SmtpMailer(catcher.smtp_host, catcher.smtp_port, sender=SENDER, starttls=False)

    with pytest.raises(MailRejected) as refused:
        clear.send(report([OWNER]))

    assert refused.value.code == 530 and catcher.messages() == []


def test_nobody_listening_is_worth_retrying():
    with socket.socket() as taken:  # a port nobody answers on: bound, never listening
        taken.bind(("127.0.0.1", 0))
        mailer = SmtpMailer("127.0.0.1", taken.getsockname()[1], sender=SENDER, timeout=2)
        with pytest.raises(MailUnreachable) as error:
            mailer.send(report([OWNER]))

    assert error.value.transient is True and error.value.code is None


def test_starttls_off_is_refused_outside_local_mode(catcher):
    with pytest.raises(ValueError, match="SMTP_STARTTLS"):
        settings_for(catcher, smtp_starttls=False, environment="production", jwt_secret_key=secrets.token_hex(32))
    assert settings_for(catcher, smtp_starttls=False).smtp_starttls is False


def _listening_socket() -> socket.socket:
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    return listening


def test_python_m_serves_on_sockets_handed_down_as_the_local_stack_does(tmp_path):
    certificate = write_self_signed_certificate(tmp_path / "cert.pem", tmp_path / "key.pem")
    smtp, http = _listening_socket(), _listening_socket()
    with smtp, http:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.mail_catcher", f"--smtp-fd={smtp.fileno()}", f"--http-fd={http.fileno()}",
             "--username", USERNAME, f"--password={PASSWORD}", "--cert-file", str(certificate.certificate),
             "--key-file", str(certificate.key), "--log-level", "WARNING"],
            pass_fds=(smtp.fileno(), http.fileno()), start_new_session=True,
        )  # fmt: skip
        smtp_port, http_port = smtp.getsockname()[1], http.getsockname()[1]
    try:
        mailer = SmtpMailer("127.0.0.1", smtp_port, sender=SENDER, username=USERNAME, password=PASSWORD,
                            ca_file=str(certificate.certificate), timeout=15)  # fmt: skip
        sent = mailer.send(report([OWNER]))  # already listening: the connection waits while the child starts
        items = HTTP.get(f"http://127.0.0.1:{http_port}/_emulator/mail").json()["items"]
        assert [(item["to"], item["tls"], item["authenticated_as"]) for item in items] == [
            (sent.accepted, True, USERNAME)
        ]
    finally:
        stop_process(process, signal.SIGTERM, timeout=5)
    assert process.returncode == 0

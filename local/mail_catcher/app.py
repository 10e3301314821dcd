"""The catcher's HTTP API (no key: it binds to loopback and holds only test mail).

- GET    /_emulator/mail[?to=ADDRESS]            {"items": [...]}, oldest first: id, from, to (the envelope's
                                                 recipients), subject, received_at (ISO 8601, UTC), text (the plain
                                                 body), attachments [{filename, content_type, size, url}],
                                                 tls (it came after STARTTLS), authenticated_as (the AUTH login)
- GET    /_emulator/mail/{id}/attachments/{n}    the n-th attachment's bytes (from 0), with its content type
- GET    /_emulator/mail/{id}/raw                the message as it arrived (message/rfc822)
- DELETE /_emulator/mail                         forget everything -> {"deleted": N}
"""

from __future__ import annotations

from flask import Flask, Response, abort, jsonify, request, url_for

from local.mail_catcher.mailbox import Mailbox, StoredMail


def create_app(mailbox: Mailbox) -> Flask:
    app = Flask("mail_catcher")
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    @app.get("/_emulator/mail")
    def list_mail() -> Response:
        return jsonify({"items": [_describe(mail) for mail in mailbox.messages(request.args.get("to"))]})

    @app.delete("/_emulator/mail")
    def clear_mail() -> Response:
        return jsonify({"deleted": mailbox.clear()})

    @app.get("/_emulator/mail/<int:mail_id>/attachments/<int:index>")
    def download_attachment(mail_id: int, index: int) -> Response:
        attachments = _find(mailbox, mail_id).attachments
        if index >= len(attachments):
            abort(404)
        attachment = attachments[index]
        response = Response(attachment.content, mimetype=attachment.content_type)
        if attachment.filename:
            response.headers.set("Content-Disposition", "attachment", filename=attachment.filename)
        return response

    @app.get("/_emulator/mail/<int:mail_id>/raw")
    def download_raw(mail_id: int) -> Response:
        return Response(_find(mailbox, mail_id).raw, mimetype="message/rfc822")

    return app


def _find(mailbox: Mailbox, mail_id: int) -> StoredMail:
    mail = mailbox.get(mail_id)
    if mail is None:
        abort(404)
    return mail


def _describe(mail: StoredMail) -> dict:
    attachments = [
        {"filename": attachment.filename, "content_type": attachment.content_type, "size": len(attachment.content),
         "url": url_for("download_attachment", mail_id=mail.id, index=index, _external=True)}
        for index, attachment in enumerate(mail.attachments)
    ]  # fmt: skip
    return {
        "id": mail.id, "from": mail.mail_from, "to": mail.to, "subject": mail.subject,
        "received_at": mail.received_at.isoformat(timespec="milliseconds"), "text": mail.text,
        "attachments": attachments, "tls": mail.tls, "authenticated_as": mail.authenticated_as,
    }  # fmt: skip

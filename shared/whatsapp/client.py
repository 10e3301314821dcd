"""A synchronous client for WAHA (WhatsApp HTTP API) 2026.7.1, bound to one session.

Paths, parameters and bodies follow WAHA's OpenAPI spec (`shared/waha/openapi.json`, beside the repo); the unit
tests check every request against it. Which calls retry is decided in `transport.py`: reads and idempotent session
operations retry on timeouts, dropped connections, 5xx and 429; sends retry only when the request never left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from shared.config import Settings, get_settings
from shared.whatsapp.errors import WahaNotFound
from shared.whatsapp.payloads import MediaFile, extract_message_id
from shared.whatsapp.phone import list_ninth_digit_variants, phone_from_chat_id
from shared.whatsapp.transport import WahaTransport

__all__ = ["WahaClient", "extract_message_id"]


class WahaClient:
    """WAHA's sessions, QR pairing, sending, contact look-ups and media, for one session."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        session: str = "default",
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self._transport = WahaTransport(
            base_url, api_key, timeout=timeout, transport=transport, retries=retries, backoff=backoff, sleep=sleep
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **options: Any) -> WahaClient:
        """A client for the configured WAHA URL, key, session and timeout (`options` override: session, retries...)."""
        settings = settings or get_settings()
        api_key = settings.waha_api_key.get_secret_value() if settings.waha_api_key else None
        options.setdefault("session", settings.waha_session_name)
        return cls(
            settings.waha_url,
            api_key,
            timeout=settings.waha_timeout_seconds,
            **options,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> WahaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Sessions -------------------------------------------------------------------------------------------

    def create_session(self, config: dict[str, Any] | None = None, start: bool = True) -> dict[str, Any]:
        """Create this session (a `SessionConfig`, e.g. `{"webhooks": [build_webhook_config(...)]}`)."""
        body: dict[str, Any] = {"name": self.session, "start": start}
        if config is not None:
            body["config"] = config
        return self._json("POST", "/api/sessions", idempotent=False, json=body)

    def get_session(self) -> dict[str, Any]:
        """This session's `SessionInfo` (status, me, config)."""
        return self._json("GET", self._session_path())

    def list_sessions(self, include_stopped: bool = False) -> list[dict[str, Any]]:
        """Every session on this WAHA; stopped ones only when asked."""
        params = {"all": "true"} if include_stopped else None
        return self._json("GET", "/api/sessions", params=params)

    def update_session(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace this session's config (WAHA restarts it if it was running)."""
        return self._json("PUT", self._session_path(), idempotent=False, json={"config": config})

    def start_session(self) -> dict[str, Any]:
        """Start this session (idempotent: starting a running session is harmless)."""
        return self._json("POST", self._session_path("/start"), idempotent=True)

    def stop_session(self) -> dict[str, Any]:
        """Stop this session, keeping its WhatsApp login."""
        return self._json("POST", self._session_path("/stop"), idempotent=True)

    def restart_session(self) -> dict[str, Any]:
        """Stop and start this session."""
        return self._json("POST", self._session_path("/restart"), idempotent=True)

    def logout_session(self) -> dict[str, Any]:
        """Log this session out of WhatsApp (a new QR scan is needed)."""
        return self._json("POST", self._session_path("/logout"), idempotent=False)

    def delete_session(self) -> None:
        """Delete this session from WAHA."""
        self._transport.call("DELETE", self._session_path(), idempotent=False)

    def get_me(self) -> dict[str, Any] | None:
        """The WhatsApp account (`MeInfo`) behind this session, or None before it is paired."""
        return self._json("GET", self._session_path("/me")) or None

    # Pairing ----------------------------------------------------------------------------------------------

    def get_qr_png(self) -> bytes:
        """The pairing QR code as a PNG image."""
        # `format` is required by the spec even though `image` is its default.
        response = self._transport.call(
            "GET", self._auth_path("/qr"), idempotent=True, params={"format": "image"}, headers={"Accept": "image/png"}
        )
        return response.content

    def get_qr_base64(self) -> dict[str, str]:
        """The pairing QR code as `{"mimetype": "image/png", "data": <base64>}`."""
        headers = {"Accept": "application/json"}
        return self._json("GET", self._auth_path("/qr"), params={"format": "image"}, headers=headers)

    def get_qr_raw(self) -> str:
        """The text the pairing QR code encodes (to draw it ourselves)."""
        headers = {"Accept": "application/json"}
        return self._json("GET", self._auth_path("/qr"), params={"format": "raw"}, headers=headers)["value"]

    def request_code(self, phone_number: str, method: str | None = None) -> dict[str, Any]:
        """Ask for a pairing code for `phone_number` (digits), the alternative to scanning the QR code."""
        body = {"phoneNumber": phone_number} | ({"method": method} if method else {})
        return self._json("POST", self._auth_path("/request-code"), idempotent=False, json=body)

    # Sending ----------------------------------------------------------------------------------------------

    def send_text(
        self, chat_id: str, text: str, reply_to: str | None = None, link_preview: bool = True
    ) -> dict[str, Any]:
        """Send a text message; the engine's answer (see `extract_message_id`)."""
        return self._send("/api/sendText", chat_id, reply_to, text=text, linkPreview=link_preview)

    def send_image(
        self, chat_id: str, file: MediaFile, caption: str | None = None, reply_to: str | None = None
    ) -> dict[str, Any]:
        """Send an image with an optional caption."""
        return self._send("/api/sendImage", chat_id, reply_to, file=file.as_payload(), caption=caption)

    def send_file(
        self, chat_id: str, file: MediaFile, caption: str | None = None, reply_to: str | None = None
    ) -> dict[str, Any]:
        """Send a document."""
        return self._send("/api/sendFile", chat_id, reply_to, file=file.as_payload(), caption=caption)

    def send_voice(
        self, chat_id: str, file: MediaFile, convert: bool = True, reply_to: str | None = None
    ) -> dict[str, Any]:
        """Send a voice note; `convert` has WAHA turn other audio into the OGG/Opus WhatsApp plays."""
        return self._send("/api/sendVoice", chat_id, reply_to, file=file.as_payload(), convert=convert)

    def send_video(
        self,
        chat_id: str,
        file: MediaFile,
        caption: str | None = None,
        convert: bool = True,
        as_note: bool = False,
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """Send a video (a round video note with `as_note`)."""
        # The spec requires a filename for a video given by url; "video.mp4" is its documented default.
        payload = file.as_payload(default_filename="video.mp4")
        return self._send(
            "/api/sendVideo", chat_id, reply_to, file=payload, caption=caption, convert=convert, asNote=as_note
        )

    def send_location(
        self, chat_id: str, latitude: float, longitude: float, title: str, reply_to: str | None = None
    ) -> dict[str, Any]:
        """Send a map pin (the clinic's address)."""
        return self._send("/api/sendLocation", chat_id, reply_to, latitude=latitude, longitude=longitude, title=title)

    def send_seen(self, chat_id: str, message_ids: list[str] | None = None) -> dict[str, Any]:
        """Mark a chat (or only `message_ids`) as read."""
        return self._send("/api/sendSeen", chat_id, None, messageIds=message_ids)

    def start_typing(self, chat_id: str) -> dict[str, Any]:
        """Show "typing..." in a chat."""
        return self._send("/api/startTyping", chat_id, None)

    def stop_typing(self, chat_id: str) -> dict[str, Any]:
        """Clear "typing..." in a chat."""
        return self._send("/api/stopTyping", chat_id, None)

    def send_reaction(self, message_id: str, reaction: str) -> dict[str, Any]:
        """React to a message with an emoji; an empty `reaction` removes ours."""
        body = {"messageId": message_id, "reaction": reaction, "session": self.session}
        return self._json("PUT", "/api/reaction", idempotent=False, json=body)

    # Contacts and media -------------------------------------------------------------------------------------

    def check_exists(self, phone: str) -> str | None:
        """The chat id WhatsApp knows `phone` by, trying the other Brazilian ninth-digit spelling; None if neither."""
        for candidate in list_ninth_digit_variants(phone):
            result = self._json(
                "GET", "/api/contacts/check-exists", params={"phone": candidate, "session": self.session}
            )
            if result.get("numberExists"):
                return result.get("chatId") or f"{candidate}@c.us"
        return None

    def phone_for_lid(self, lid: str) -> str | None:
        """The phone number (digits) behind an `@lid` id, or None when WAHA does not know it."""
        try:
            result = self._json("GET", self._session_scoped(f"/lids/{quote(lid, safe='')}"))
        except WahaNotFound:
            return None
        return phone_from_chat_id(result.get("pn"))

    def download_media(self, url: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """The bytes and content type of a webhook's `media.url`; WahaMediaTooLarge past `max_bytes`."""
        return self._transport.download(url, max_bytes)

    # Plumbing ---------------------------------------------------------------------------------------------

    def _send(self, path: str, chat_id: str, reply_to: str | None, **fields: Any) -> dict[str, Any]:
        body = {"chatId": chat_id, "session": self.session}
        body |= {name: value for name, value in fields.items() if value is not None}
        if reply_to:
            body["reply_to"] = reply_to
        return self._json("POST", path, idempotent=False, json=body)

    def _json(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        response = self._transport.call(method, path, idempotent=idempotent, **kwargs)
        # Some answers have no body: startTyping/stopTyping/sendVideo by the spec, sendText on some WEBJS versions.
        return response.json() if response.content.strip() else {}

    def _session_path(self, suffix: str = "") -> str:
        return f"/api/sessions/{quote(self.session, safe='')}{suffix}"

    def _session_scoped(self, suffix: str) -> str:
        return f"/api/{quote(self.session, safe='')}{suffix}"

    def _auth_path(self, suffix: str) -> str:
        return self._session_scoped(f"/auth{suffix}")

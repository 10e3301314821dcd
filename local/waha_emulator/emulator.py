"""The emulated WAHA: sessions, what patients send, what the bot sends, and the webhooks in between."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from local.waha_emulator.directory import Directory
from local.waha_emulator.identifiers import (
    chat_of_message_id,
    digits_of,
    new_inbound_key_id,
    new_outbound_key_id,
    serialize_message_id,
    to_chat_id,
)
from local.waha_emulator.payloads import (
    ACK_DEVICE,
    ACK_PENDING,
    ACK_SERVER,
    WAHA_VERSION,
    MediaInfo,
    MessageDraft,
    build_ack_payload,
    build_envelope,
    build_status_payload,
    build_wa_message,
)
from local.waha_emulator.sessions import Session, SessionError, SessionRegistry
from local.waha_emulator.stores import Faults, MediaStore, Outbox
from local.waha_emulator.webhooks import DeliveryLog, RetryPolicy, WebhookDispatcher, WebhookTarget

DEFAULT_ME_PHONE = "5511940000000"


@dataclass(frozen=True)
class EmulatorConfig:
    public_url: str  # where webhook receivers reach this emulator (media links point here)
    default_session: str = "default"
    me_phone: str = DEFAULT_ME_PHONE  # the clinic's own number on the default session
    push_name: str = "Clínica Emulada"
    boot_delay: float = 0.2  # STARTING -> SCAN_QR_CODE / WORKING
    auto_scan_delay: float | None = 1.0  # None: wait for POST /_emulator/sessions/{s}/scan
    ack_delay: float = 0.3  # between a send and its SERVER ack, and again until DEVICE
    media_ttl: float = 180.0
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    webhook_timeout: float = 10.0


@dataclass(frozen=True)
class InboundRequest:
    """What `POST /_emulator/inbound` asks for: a message as a patient's phone (or the clinic's) sent it."""

    sender: str
    body: str = ""
    session: str | None = None
    media: dict | None = None  # mimetype, data (base64), filename?
    location: dict | None = None  # latitude, longitude, name?, address?
    lid: bool = False
    from_me: bool = False
    source: str = "app"
    push_name: str | None = "Paciente"


class Emulator:
    """The use cases behind the routes; thread-safe."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.directory = Directory()
        self.outbox = Outbox()
        self.media = MediaStore(config.media_ttl)
        self.faults = Faults()
        self.deliveries = DeliveryLog()
        self._dispatcher = WebhookDispatcher(self.deliveries, f"WAHA/{WAHA_VERSION}", config.webhook_timeout)
        self.sessions = SessionRegistry(
            self._announce_status, self._me_phone_for, config.push_name, config.boot_delay, config.auto_scan_delay
        )
        self._timers: set[threading.Timer] = set()
        self._timers_lock = threading.Lock()

    def close(self) -> None:
        self.sessions.close()
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
        self._dispatcher.close()

    # Events -----------------------------------------------------------------------------------------------

    def emit(self, session: Session, event: str, payload: dict) -> str:
        """Send one event to every webhook of the session that subscribed to it; the event id."""
        with self.sessions.lock:
            envelope = build_envelope(event, session.name, payload, session.me(), session.config.get("metadata"))
            webhooks = session.config.get("webhooks") or []
        targets = [WebhookTarget.from_config(webhook, self.config.retries) for webhook in webhooks]
        self._dispatcher.dispatch(targets, envelope)
        return envelope["id"]

    def _announce_status(self, session: Session) -> None:
        self.emit(session, "session.status", build_status_payload(session.name, session.status, session.statuses))

    # Inbound ----------------------------------------------------------------------------------------------

    def receive_inbound(self, request: InboundRequest) -> dict:
        """A message arrives from a phone: store its media, build the payload, fire message / message.any."""
        session = self.sessions.require_working(request.session or self.config.default_session)
        phone_jid = None
        chat_id = to_chat_id(request.sender)
        if request.lid and chat_id.endswith("@c.us"):
            phone_jid = chat_id.replace("@c.us", "@s.whatsapp.net")
            chat_id = f"{self.directory.lid_of(chat_id)}@lid"
        key_id = new_inbound_key_id()
        message_id = serialize_message_id(request.from_me, chat_id, key_id)
        media = self._store_media(session.name, message_id, request.media) if request.media else None
        # A phone's own message has reached the server; one that arrived here has reached this device.
        ack = ACK_SERVER if request.from_me else ACK_DEVICE
        draft = MessageDraft(
            chat_id=chat_id, key_id=key_id, from_me=request.from_me, source=request.source, body=request.body,
            me_id=f"{session.me_phone}@c.us", timestamp=int(time.time()), ack=ack,
            push_name=None if request.from_me else request.push_name, media=media, location=request.location,
            phone_jid=phone_jid,
        )  # fmt: skip
        payload = build_wa_message(draft)
        # WAHA's `message` is for incoming messages only; `message.any` also carries our own.
        events = ["message.any"] if request.from_me else ["message", "message.any"]
        event_ids = {event: self.emit(session, event, payload) for event in events}
        result = {"event_id": event_ids[events[0]], "event_ids": event_ids, "message_id": message_id, "chatId": chat_id}
        return result | ({"media_url": media.url} if media else {})

    def _store_media(self, session: str, message_id: str, media: dict) -> MediaInfo:
        content = decode_base64(media.get("data") or "", "media.data")
        mimetype = media.get("mimetype") or "application/octet-stream"
        name = self.media.put(session, message_id, mimetype, content)
        url = f"{self.config.public_url}/api/files/{session}/{name}"
        return MediaInfo(url, mimetype, media.get("filename"), len(content))

    # Outbound ---------------------------------------------------------------------------------------------

    def record_send(self, kind: str, request: dict) -> dict:
        """A send endpoint was called: keep it, fire message.any, schedule the acks; the `WAMessage`."""
        session = self.sessions.require_working(request["session"])
        chat_id = request["chatId"]
        key_id = new_outbound_key_id()
        message_id = serialize_message_id(True, chat_id, key_id)
        media = self._store_sent_file(session.name, message_id, request.get("file"))
        location = None
        if kind == "location":
            location = {"latitude": request["latitude"], "longitude": request["longitude"], "name": request["title"]}
        text = request.get("text") if kind == "text" else request.get("title") if kind == "location" else None
        caption = request.get("caption")
        draft = MessageDraft(
            chat_id=chat_id, key_id=key_id, from_me=True, source="api", body=text or caption or "",
            me_id=f"{session.me_phone}@c.us", timestamp=int(time.time()), ack=ACK_PENDING, media=media,
            location=location,
        )  # fmt: skip
        payload = build_wa_message(draft)
        self.outbox.add_message(_outbox_record(session.name, message_id, chat_id, kind, text, caption, media, request))
        self.emit(session, "message.any", payload)
        self._schedule_acks(message_id, chat_id)
        return payload

    def record_reaction(self, request: dict) -> dict:
        session = self.sessions.require_working(request["session"])
        chat_id = chat_of_message_id(request["messageId"]) or ""
        reaction = request["reaction"]
        self.outbox.add_message(
            _outbox_record(session.name, request["messageId"], chat_id, "reaction", reaction, None, None, request)
        )
        return {}

    def record_action(self, kind: str, request: dict) -> None:
        session = self.sessions.require_working(request["session"])
        action = {"kind": kind, "session": session.name, "chatId": request["chatId"], "time": _now_iso()}
        if request.get("messageIds") or request.get("messageId"):
            action["messageIds"] = request.get("messageIds") or [request["messageId"]]
        self.outbox.add_action(action)

    def emit_ack(self, message_id: str, ack: int) -> str:
        """A `message.ack` for one of our messages (READ, PLAYED... on demand)."""
        record = self.outbox.find_message(message_id)
        if record is None or record["kind"] == "reaction":
            raise SessionError(404, f"No message '{message_id}' was sent through this emulator")
        session = self.sessions.require_working(record["session"])
        key_id = message_id.rsplit("_", 1)[-1]
        me_id = f"{session.me_phone}@c.us"
        return self.emit(session, "message.ack", build_ack_payload(message_id, record["chatId"], key_id, me_id, ack))

    def _schedule_acks(self, message_id: str, chat_id: str) -> None:
        # A number that is not on WhatsApp gets the server's tick but never reaches a device.
        acks = [ACK_SERVER]
        if not chat_id.endswith("@c.us") or self.directory.number_exists(chat_id):
            acks.append(ACK_DEVICE)
        for step, ack in enumerate(acks, start=1):
            timer = threading.Timer(self.config.ack_delay * step, self._send_ack, (message_id, ack))
            timer.daemon = True
            with self._timers_lock:
                self._timers = {t for t in self._timers if t.is_alive()} | {timer}
            timer.start()

    def _send_ack(self, message_id: str, ack: int) -> None:
        # The session may have stopped or the outbox been cleared meanwhile: a real phone would not ack either.
        with contextlib.suppress(SessionError):
            self.emit_ack(message_id, ack)

    def _store_sent_file(self, session: str, message_id: str, file: dict | None) -> MediaInfo | None:
        if not file:
            return None
        if file.get("data"):
            return self._store_media(session, message_id, file)
        return MediaInfo(file["url"], file["mimetype"], file.get("filename"), 0)

    # Contacts ---------------------------------------------------------------------------------------------

    def check_exists(self, session_name: str, phone: str) -> dict:
        """`WANumberExistResult`: only the 13-digit spelling of a Brazilian mobile exists."""
        self.sessions.require_working(session_name)
        digits = digits_of(phone)
        if digits and self.directory.number_exists(digits):
            return {"numberExists": True, "chatId": f"{digits}@c.us"}
        return {"numberExists": False}

    def find_phone_of_lid(self, session_name: str, lid: str) -> dict:
        """`LidToPhoneNumber`; `pn` is null for a lid we never made, as WAHA answers."""
        self.sessions.require_working(session_name)
        phone = self.directory.phone_of_lid(lid)
        return {"lid": f"{digits_of(lid)}@lid", "pn": f"{phone}@c.us" if phone else None}

    def find_lid_of_phone(self, session_name: str, phone: str) -> dict:
        self.sessions.require_working(session_name)
        lid = self.directory.known_lid_of(phone)
        return {"lid": f"{lid}@lid" if lid else None, "pn": f"{digits_of(phone)}@c.us"}

    def chat_aliases(self, chat_id: str) -> set[str]:
        """A chat id and the other spelling of the same person (phone <-> lid), for outbox filters."""
        aliases = {chat_id}
        if chat_id.endswith("@lid") and (phone := self.directory.phone_of_lid(chat_id)):
            aliases.add(f"{phone}@c.us")
        if chat_id.endswith("@c.us") and (lid := self.directory.known_lid_of(chat_id)):
            aliases.add(f"{lid}@lid")
        return aliases

    def _me_phone_for(self, session_name: str) -> str:
        if session_name == self.config.default_session:
            return self.config.me_phone
        # Another session is another WhatsApp number: a stable one per name.
        suffix = int.from_bytes(hashlib.sha256(session_name.encode()).digest()[:4], "big") % 10**8
        return f"55119{suffix:08d}"


def decode_base64(data: str, field_name: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SessionError(400, f"{field_name} must be base64") from exc


def _outbox_record(
    session: str,
    message_id: str,
    chat_id: str,
    kind: str,
    text: str | None,
    caption: str | None,
    media: MediaInfo | None,
    request: dict,
) -> dict:
    return {
        "id": message_id,
        "session": session,
        "chatId": chat_id,
        "kind": kind,
        "text": text,
        "caption": caption,
        "media": {"mimetype": media.mimetype, "filename": media.filename, "url": media.url, "size": media.size}
        if media
        else None,
        "location": {k: request[k] for k in ("latitude", "longitude", "title")} if kind == "location" else None,
        "replyTo": request.get("reply_to"),
        "time": _now_iso(),
        "timestamp": int(time.time()),
    }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

import json

import pytest

from shared.errors import ValidationFailed
from shared.whatsapp.contacts import identify_contact, push_name
from shared.whatsapp.models import SessionStatus
from shared.whatsapp.webhooks import MessageEvent, OtherEvent, SessionStatusEvent, is_patient_chat, parse_webhook
from tests.waha_reference import PAYLOADS


def envelope(event: str, payload: dict, **extra) -> bytes:
    me = {"id": "5511900000000@c.us", "pushName": "Clínica"}
    body = {"id": "evt_01jabc", "timestamp": 1732450000000, "event": event, "session": "default",
            "engine": "GOWS", "me": me, "payload": payload}  # fmt: skip
    body.update(extra)
    return json.dumps(body).encode()


def test_the_real_noweb_message_payload_parses():
    event = parse_webhook((PAYLOADS / "message_noweb_with_media.json").read_bytes())
    assert isinstance(event, MessageEvent)
    message = event.payload
    assert message.id == "false_79069471990@c.us_6738E65C1C0E65591F2739658FC18A26"
    assert message.sender == "79069571990@c.us" and not message.from_me
    assert message.has_media and message.media.mimetype == "image/jpeg" and message.media.filename is None
    assert event.id is None and event.timestamp is None  # the 2024 envelope had neither
    assert push_name(message.raw) == "Sim1"


def test_the_real_session_status_payload_parses():
    event = parse_webhook((PAYLOADS / "session_status_scan_qr_webjs.json").read_bytes())
    assert isinstance(event, SessionStatusEvent)
    assert event.payload.status == SessionStatus.SCAN_QR_CODE and event.me is None


def test_unhandled_events_are_recognised_but_not_validated_further():
    event = parse_webhook(envelope("presence.update", {"anything": [1, 2]}))
    assert isinstance(event, OtherEvent) and event.event == "presence.update"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"not json at all", {"body"}),
        (b"[]", {"body"}),
        (envelope("message", {"from": "5511999999999@c.us"}), {"payload.id"}),
        (envelope("message.ack", {"id": "x", "ack": 9}), {"payload.ack"}),
        (envelope("session.status", {"name": "default", "status": "DANCING"}), {"payload.status"}),
        (json.dumps({"event": "message", "payload": {}}).encode(), {"session", "payload.id", "payload.from"}),
    ],
)
def test_bodies_we_cannot_use_name_their_fields(body, fields):
    with pytest.raises(ValidationFailed) as caught:
        parse_webhook(body)
    assert {error.field for error in caught.value.errors} >= fields


def test_location_coordinates_are_range_checked():
    payload = {"id": "false_1@c.us_A", "from": "5511999999999@c.us", "location": {"latitude": "95", "longitude": "1"}}
    with pytest.raises(ValidationFailed) as caught:
        parse_webhook(envelope("message", payload))
    assert [error.field for error in caught.value.errors] == ["payload.location.latitude"]


def test_group_broadcast_status_and_channel_chats_are_not_patients():
    assert is_patient_chat("5511999999999@c.us")
    assert is_patient_chat("123456789@lid")
    for chat in ("120363@g.us", "status@broadcast", "123@broadcast", "120363@newsletter"):
        assert not is_patient_chat(chat)


def test_a_lid_sender_resolves_to_the_phone_in_data_or_stays_keyed_on_the_lid():
    noweb = identify_contact("987654321@lid", {"key": {"remoteJidAlt": "5511988887777@s.whatsapp.net"}})
    assert noweb.chat_id == "5511988887777@c.us" and noweb.phone_number == "5511988887777"
    assert noweb.lid == "987654321@lid"
    gows = identify_contact("987654321@lid", {"Info": {"SenderAlt": "5511988887777:3@s.whatsapp.net"}})
    assert gows.phone_number == "5511988887777"
    unknown = identify_contact("987654321@lid", {"key": {}})
    assert unknown.chat_id == "987654321@lid" and unknown.phone_number is None
    plain = identify_contact("5511988887777@c.us", None)
    assert plain.chat_id == "5511988887777@c.us" and plain.phone_number == "5511988887777"

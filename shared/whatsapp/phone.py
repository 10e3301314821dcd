"""Phone numbers as WAHA wants them: digits with the country code, and Brazil's ninth digit."""

from __future__ import annotations

BRAZIL = "55"


def normalize_phone(phone: str) -> str:
    """The digits of a phone number typed any way (`+55 (11) 99999-9999` -> `5511999999999`)."""
    return "".join(char for char in phone if char.isdigit())


def list_ninth_digit_variants(phone: str) -> list[str]:
    """The number as given, then its other Brazilian mobile spelling (with or without the ninth digit), if any."""
    digits = normalize_phone(phone)
    variants = [digits]
    if not digits.startswith(BRAZIL) or len(digits) not in (12, 13):
        return variants
    area, local = digits[2:4], digits[4:]
    if "0" in area:  # area codes (DDD) run 11..99 without a zero digit
        return variants
    # Mobiles got a leading 9 in 2012-2016, but WhatsApp accounts made before that may still be registered
    # under the 8-digit number, so either spelling may be the real one. Only 8-digit mobiles (6..9) had it
    # added; 8-digit numbers starting 2..5 are landlines and never gain a 9.
    if len(local) == 9 and local[0] == "9" and local[1] in "6789":
        variants.append(BRAZIL + area + local[1:])
    elif len(local) == 8 and local[0] in "6789":
        variants.append(BRAZIL + area + "9" + local)
    return variants


def phone_from_chat_id(chat_id: str | None) -> str | None:
    """The digits of a `<digits>@c.us` (or `@s.whatsapp.net`) id; None for `@lid`, groups and the like."""
    if not chat_id or not chat_id.endswith(("@c.us", "@s.whatsapp.net")):
        return None
    user = chat_id.split("@", 1)[0].split(":", 1)[0]  # a device suffix (`:12`) is not part of the number
    return user if user.isdigit() else None

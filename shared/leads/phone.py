"""The key under which two spellings of one phone number meet, for finding duplicate leads (card 124)."""

from __future__ import annotations

from shared.whatsapp.phone import BRAZIL, list_ninth_digit_variants, normalize_phone


def phone_key(phone: str | None) -> str | None:
    """One spelling per number: digits, with Brazil's country code, without the ninth digit; None when no digits.

    `+55 (11) 98765-4321`, `5511987654321`, `11 8765-4321` and `(11) 98765 4321` share the key `551187654321`.
    The ninth-digit rule is WhatsApp's own (shared/whatsapp/phone.py), the one privacy erasure matches with.
    """
    # Leading zeros are dialling prefixes, not the number: "0 11 ..." (trunk) and "00 55 ..." (international).
    digits = normalize_phone(phone or "").lstrip("0")
    if not digits:
        return None
    if _is_national(digits):
        digits = BRAZIL + digits
    return min(list_ninth_digit_variants(digits), key=len)


def _is_national(digits: str) -> bool:
    """A Brazilian number typed without the country code: area code (no zero), then 8 digits, or 9 from a 9."""
    area, local = digits[:2], digits[2:]
    if "0" in area:
        return False
    return (len(local) == 8 and local[0] in "23456789") or (len(local) == 9 and local[0] == "9")

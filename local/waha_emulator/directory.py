"""Which numbers are on WhatsApp, and which lid stands for which phone.

Brazilian mobiles gained a ninth digit (9) in 2012-2016, yet people still type the old 12-digit form
(`55 DD XXXXXXXX`). WhatsApp knows them by the 13-digit form (`55 DD 9XXXXXXXX`), so the emulator answers
"exists" only for that one and "does not exist" for the old spelling: our client must try both.
"""

from __future__ import annotations

import threading

from local.waha_emulator.identifiers import digits_of, lid_for_phone


class Directory:
    """The emulated WhatsApp address book: number existence rules, overrides, and the lid <-> phone map."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._overrides: dict[str, bool] = {}
        self._phone_by_lid: dict[str, str] = {}

    def number_exists(self, phone: str) -> bool:
        digits = digits_of(phone)
        with self._lock:
            if digits in self._overrides:
                return self._overrides[digits]
        return _exists_by_default(digits)

    def set_number_exists(self, phone: str, exists: bool) -> None:
        with self._lock:
            self._overrides[digits_of(phone)] = exists

    def lid_of(self, phone: str) -> str:
        """The lid digits for a phone number, remembered so `/lids/{lid}` can answer for it later."""
        digits = digits_of(phone)
        lid = lid_for_phone(digits)
        with self._lock:
            self._phone_by_lid[lid] = digits
        return lid

    def phone_of_lid(self, lid: str) -> str | None:
        with self._lock:
            return self._phone_by_lid.get(digits_of(lid))

    def known_lid_of(self, phone: str) -> str | None:
        """The lid of a phone number, only if a message from it already came as `@lid`."""
        lid = lid_for_phone(digits_of(phone))
        with self._lock:
            return lid if lid in self._phone_by_lid else None


def _exists_by_default(digits: str) -> bool:
    if digits.startswith("55"):
        if len(digits) == 13:
            return digits[4] == "9"  # 55 DD 9XXXXXXXX: a mobile with its ninth digit
        if len(digits) == 12:
            return digits[4] in "2345"  # landlines keep 8 digits; 6-9 is a mobile without its ninth digit
        return False
    return 8 <= len(digits) <= 15

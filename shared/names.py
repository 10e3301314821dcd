"""When two names typed by people are the same name (tags, templates): case and spacing do not count."""

from __future__ import annotations


def name_key(name: str) -> str:
    """The name trimmed, its inner spaces collapsed, lower-cased: the key a unique index holds."""
    return " ".join(name.split()).lower()

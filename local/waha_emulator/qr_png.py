"""A small, valid PNG that looks like a QR code, drawn with zlib and struct only.

It is not a scannable QR code (that would need an encoder we do not ship): it has the three finder squares
and modules derived from the value, which is enough for a dashboard to show "something to scan" and for
tests to check that a real image comes back.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MODULES = 25  # a version-2 QR code's size
_QUIET = 4  # the white border a reader needs, in modules
_FINDER = 7


def render_qr_png(value: str, scale: int = 6) -> bytes:
    """A grayscale PNG of a QR-looking pattern for `value`, `scale` pixels per module."""
    modules = _draw_modules(value)
    side = (_MODULES + 2 * _QUIET) * scale
    rows = []
    for y in range(_MODULES + 2 * _QUIET):
        line = bytearray()
        for x in range(_MODULES + 2 * _QUIET):
            inside = _QUIET <= x < _QUIET + _MODULES and _QUIET <= y < _QUIET + _MODULES
            dark = inside and modules[y - _QUIET][x - _QUIET]
            line += (b"\x00" if dark else b"\xff") * scale
        rows.extend([b"\x00" + bytes(line)] * scale)  # filter byte 0: the row as is
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grayscale, no interlace
    pixels = zlib.compress(b"".join(rows), 9)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _draw_modules(value: str) -> list[list[bool]]:
    seed = int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    grid = [[rng.random() < 0.5 for _ in range(_MODULES)] for _ in range(_MODULES)]
    for top, left in ((0, 0), (0, _MODULES - _FINDER), (_MODULES - _FINDER, 0)):
        _draw_finder(grid, top, left)
    return grid


def _draw_finder(grid: list[list[bool]], top: int, left: int) -> None:
    # A finder: a dark 7x7 ring, a light ring, a dark 3x3 centre, and a light separator around it.
    for dy in range(-1, _FINDER + 1):
        for dx in range(-1, _FINDER + 1):
            y, x = top + dy, left + dx
            if not (0 <= y < _MODULES and 0 <= x < _MODULES):
                continue
            ring = max(abs(dy - 3), abs(dx - 3))
            grid[y][x] = ring in (0, 1, 3)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

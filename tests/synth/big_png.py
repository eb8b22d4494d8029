"""Huge PNGs written row by row (a 13,300² RGBA image without 700 MB in memory), for memory tests."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_COLOUR_TYPE = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_big_png(path: Path, size: int, mode: str = "RGBA") -> Path:
    """A size x size 8-bit PNG: a red disc on a blue-green gradient, transparent corners (alpha modes).

    Rows repeat in bands, so it compresses to well under a megabyte.
    """
    x = np.arange(size)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, _COLOUR_TYPE[mode], 0, 0, 0)))
        z = zlib.compressobj(6)
        out = bytearray()
        band = max(1, size // 64)
        row_bytes = b""
        for y in range(size):
            if y % band == 0:  # one distinct row per band keeps writing fast
                inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 3) ** 2
                rgb = np.stack(
                    [np.where(inside, 230, 20), np.where(inside, 30, 60 + 120 * x // size), np.full(size, 120)], axis=1
                )
                grey = rgb.mean(axis=1, keepdims=True)
                colour = grey if mode in ("L", "LA") else rgb
                if mode.endswith("A"):
                    corner = np.minimum(x, size - 1 - x) + min(y, size - 1 - y) < size // 8
                    colour = np.concatenate([colour, np.where(corner, 0, 255)[:, None]], axis=1)
                row_bytes = b"\x00" + colour.astype(np.uint8).tobytes()
            out += z.compress(row_bytes)
            if len(out) > 1 << 20:
                f.write(_chunk(b"IDAT", bytes(out)))
                out.clear()
        out += z.flush()
        f.write(_chunk(b"IDAT", bytes(out)))
        f.write(_chunk(b"IEND", b""))
    return path

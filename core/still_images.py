"""Still images decoded already reduced, so a huge still never needs full-size copies in memory.

JPEG: Pillow's draft (DCT scaling while decoding). Plain 8-bit PNG: decoded in strips of rows,
each strip reduced at once (a 13,300² RGBA PNG needed 5.3 GB as full-size copies; in strips
it needs a few MB). Anything else: decoded once at full size, reduced, and only then
converted; transparency is flattened after reducing in every case. HEIF/HEIC (pillow-heif) is
in that last group: libheif decodes whole pictures only, so its size is capped by Pillow's bomb
limit (checked in Image.open, before decoding) and reduced right after the one decode.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type (bit depth 8) -> bytes per pixel; Pillow's mode names the same layout.
_PNG_BYTES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_STRIP_BYTES = 16 * 1024 * 1024  # raw row data per strip


def reduce_factor(width: int, height: int, target: int) -> int:
    """The integer reduction that keeps the short side at least twice the target size."""
    return max(1, min(width, height) // (2 * max(1, target)))


def read_still(path: Path, target: int) -> np.ndarray:
    """An (h, w, 3) uint8 RGB image, reduced so its short side is about 2-4x ``target``.

    EXIF orientation is applied, transparency shows as white. Pillow's errors propagate
    (the caller turns them into readable messages).
    """
    from PIL import Image

    from .still_formats import register_still_decoders

    register_still_decoders()
    with warnings.catch_warnings():
        # Between Pillow's warning and error limits the decode below stays bounded anyway: the
        # warning would only alarm the editor.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(path)
    with img:
        orientation = _orientation(img)
        factor = reduce_factor(img.width, img.height, target)
        if img.format == "JPEG":
            img.draft("RGB", (2 * target, 2 * target))
            small = _reduced(img, reduce_factor(img.width, img.height, target))
        elif img.format == "PNG" and factor > 1 and _strippable(img):
            small = _png_in_strips(path, img, factor)
        else:
            small = _reduced(img, factor)
    return np.asarray(_orient(_flatten(small), orientation))


def _reduced(img: Any, factor: int) -> Any:
    """Full decode (the only full-size buffer), then reduce before any conversion."""
    img.load()
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _to_l(img, factor)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")  # 1 byte a pixel, where RGB would take 4
    elif img.mode not in ("L", "LA", "RGB", "RGBA", "RGBa", "La"):
        img = img.convert("RGB")  # CMYK, YCbCr, ...: not reducible as they are
    return img.reduce(factor) if factor > 1 else img


def _to_l(img: Any, factor: int) -> Any:
    """High-bit-depth grey: reduce in 32-bit float, then stretch to 8-bit by the brightest value."""
    from PIL import Image

    small = img.convert("F")
    if factor > 1:
        small = small.reduce(factor)
    array = np.asarray(small, dtype=np.float64)
    peak = max(float(array.max()), 1.0)
    return Image.fromarray(np.clip(array * (255.0 / peak), 0, 255).astype(np.uint8), "L")


def _flatten(img: Any) -> Any:
    """Transparent areas become white (as image viewers show them); done at the reduced size."""
    from PIL import Image

    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


def _orientation(img: Any) -> int:
    from PIL import Image

    try:
        if img.format == "PNG":
            # PngImageFile.getexif() decodes the whole image to look for EXIF after the
            # pixels; an eXIf chunk before them (where writers put it) is already in info.
            exif = Image.Exif()
            if "exif" in img.info:
                exif.load(img.info["exif"])
            return int(exif.get(0x0112, 1))
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a damaged EXIF block must not stop the image from being used
        return 1


def _orient(img: Any, orientation: int) -> Any:
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return img.transpose(method) if method is not None else img


def _strippable(img: Any) -> bool:
    """8-bit, non-interlaced PNGs in a mode whose raw rows Pillow can pack back."""
    return (
        img.mode in ("L", "LA", "RGB", "RGBA", "P")
        and not img.info.get("interlace")
        and len(img.tile) == 1
        and img.tile[0][3] in ("L", "LA", "RGB", "RGBA", "P")
    )


def _idat(path: Path) -> Any:
    """The PNG's compressed image data, chunk by chunk."""
    with open(path, "rb") as f:
        if f.read(8) != _PNG_SIGNATURE:
            raise SyntaxError("not a PNG file")
        while True:
            head = f.read(8)
            if len(head) < 8:
                raise OSError("truncated PNG file (no end chunk)")
            length, kind = struct.unpack(">I4s", head)
            if kind == b"IDAT":
                data = f.read(length)
                if len(data) < length:
                    raise OSError("truncated PNG file (image data cut short)")
                yield data
                f.seek(4, 1)  # CRC: Pillow checked the header chunks; zlib checks the data
            elif kind == b"IEND":
                return
            else:
                f.seek(length + 4, 1)


def _png_in_strips(path: Path, img: Any, factor: int) -> Any:
    """Decode strips of rows with Pillow's own PNG row decoder, reducing each strip at once.

    Each strip is handed to the decoder as a tiny PNG stream whose first row is the previous
    strip's last row, unfiltered, so the row filters (Up, Average, Paeth) see the right row above.
    """
    from PIL import Image

    width, height = img.size
    mode = img.mode
    bpp = _PNG_BYTES[{"L": 0, "RGB": 2, "P": 3, "LA": 4, "RGBA": 6}[mode]]
    stride = 1 + width * bpp
    rows_per_strip = max(factor, (_STRIP_BYTES // stride) // factor * factor)
    palette = img.getpalette() if mode == "P" else None
    transparency = img.info.get("transparency")
    out = None
    previous = bytes(width * bpp)  # the row above the first row is all zeros for the filters
    inflate = zlib.decompressobj()
    compressed = b""
    chunks = _idat(path)
    y = 0
    while y < height:
        rows = min(rows_per_strip, height - y)
        need = rows * stride
        raw = bytearray()
        while len(raw) < need:
            if not compressed:
                data = next(chunks, None)
                if data is None or inflate.eof:
                    raise OSError("truncated PNG file (image data cut short)")
                compressed = data
            # Bounded inflate: a few hundred KB of PNG can hold gigabytes of rows.
            try:
                raw += inflate.decompress(compressed, need - len(raw))
            except zlib.error as e:
                raise OSError(f"damaged PNG image data ({e})") from None
            compressed = inflate.unconsumed_tail
        stream = zlib.compress(b"\x00" + previous + bytes(raw), 0)
        strip = Image.frombytes(mode, (width, rows + 1), stream, "zip", mode)
        previous = strip.crop((0, rows, width, rows + 1)).tobytes("raw", mode)
        strip = strip.crop((0, 1, width, rows + 1))
        if mode == "P":
            if palette is not None:
                strip.putpalette(palette)
            if transparency is not None:
                strip.info["transparency"] = transparency
            strip = strip.convert("RGBA" if transparency is not None else "RGB")
        small = strip.reduce(factor)
        if out is None:
            out = Image.new(small.mode, (small.width, -(-height // factor)))
        out.paste(small, (0, y // factor))
        y += rows
    return out

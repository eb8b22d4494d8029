"""Still formats Pillow does not decode on its own (HEIF/HEIC from iPhones), registered when first needed.

AVIF needs nothing here: Pillow's wheels decode it since 11.3 (libavif with dav1d), which is why
pyproject requires that version. HEIC is HEVC inside HEIF, which Pillow leaves to plugins; the
maintained one is pillow-heif (libheif + libde265). Its import loads native libraries, so it is
registered on the first still decoded, not when reelseek starts.
"""

from __future__ import annotations

import threading
from pathlib import Path

_lock = threading.Lock()
_registered = False


def register_still_decoders() -> None:
    """Teach Pillow's Image.open to read HEIF/HEIC. Safe to call from any thread, any number of times."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        try:
            from pillow_heif import register_heif_opener
        except ImportError:  # a trimmed install: .heic stays "format not recognised", the rest works
            _registered = True
            return
        # Only the picture itself: no embedded thumbnail (iPhone's are 320 px, too small to search
        # by), no depth or auxiliary images (memory for nothing). The plugin hands Pillow 8-bit
        # RGB(A) even for 10-bit HDR stills, so the one full-size copy is 3-4 bytes a pixel.
        register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
        _registered = True


def is_still_image(path: Path) -> bool:
    """True if Pillow (with the decoders above) recognises the file as an image; reads only its header."""
    from PIL import Image, UnidentifiedImageError

    register_still_decoders()
    try:
        with Image.open(path) as img:
            return bool(img.width > 0 and img.height > 0)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False

"""The one vocabulary of file kinds: which names the indexer takes as video, which as stills.

Pure data and name checks, no decoding imports, so the GUI can use it on every drop.
"""

from __future__ import annotations

from pathlib import Path

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".m2t",
        ".mpg", ".mpeg", ".m2v", ".vob", ".mod", ".tod", ".wmv", ".asf", ".flv", ".f4v", ".3gp", ".3g2",
        ".dv", ".dif", ".ogv", ".ogm", ".y4m", ".rm", ".rmvb", ".divx", ".nut",
    }
)  # fmt: skip
# Stills a search can start from; .heic/.heif by pillow-heif, .avif by Pillow itself (still_formats).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif", ".avif", ".heic", ".heif"}
)


def is_video_candidate(path: Path) -> bool:
    """True if the file name has a known video extension (case-insensitive); nothing is read."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS

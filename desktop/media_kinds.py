"""What a dropped path is: a folder to watch, a still or a clip to search by, or something else."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData

# The indexer's own vocabulary: a clip the indexer takes is a clip the window takes.
from reelseek.core.media.kinds import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from reelseek.core.still_formats import is_still_image

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "DropKind", "classify", "classify_all", "local_paths"]


class DropKind(enum.Enum):
    FOLDER = "folder"
    IMAGE = "image"
    CLIP = "clip"
    OTHER = "other"


def classify(path: Path) -> DropKind:
    """Classify by what the file is, not only its name: a ``.jpg`` the search cannot decode is not an image.

    Stills are checked by the decoder the search uses (Pillow with HEIF), not Qt's, which reads
    neither HEIC nor AVIF.
    """
    if path.is_dir():
        return DropKind.FOLDER
    if not path.is_file():
        return DropKind.OTHER
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return DropKind.CLIP
    if suffix in IMAGE_EXTENSIONS and is_still_image(path):
        return DropKind.IMAGE
    return DropKind.OTHER


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


def classify_all(paths: Iterable[Path]) -> list[tuple[DropKind, Path]]:
    return [(classify(p), p) for p in paths]

"""What a dropped path is: a folder to watch, a still or a clip to search by, or something else."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QImageReader

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg"}
    | {".wmv", ".flv", ".3gp", ".dv", ".ogv"}
)
IMAGE_EXTENSIONS = frozenset([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"])


class DropKind(enum.Enum):
    FOLDER = "folder"
    IMAGE = "image"
    CLIP = "clip"
    OTHER = "other"


def classify(path: Path) -> DropKind:
    """Classify by what the file is, not only its name: a ``.jpg`` Qt cannot read is not an image."""
    if path.is_dir():
        return DropKind.FOLDER
    if not path.is_file():
        return DropKind.OTHER
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return DropKind.CLIP
    if suffix in IMAGE_EXTENSIONS and QImageReader.imageFormat(str(path)):
        return DropKind.IMAGE
    return DropKind.OTHER


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]


def classify_all(paths: Iterable[Path]) -> list[tuple[DropKind, Path]]:
    return [(classify(p), p) for p in paths]

